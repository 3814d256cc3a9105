package dev.renewal.topics;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.apache.kafka.common.TopicPartition;

/**
 * Offsets of records handed to asynchronous work, per partition: a partition's offset may be
 * committed only up to its oldest record still in progress, so that a crash re-delivers every
 * record whose work had not finished (at-least-once), whatever order the work finishes in.
 * Thread-safe.
 */
public final class OffsetTracker {
  private final Map<TopicPartition, TreeSet<Long>> pending = new HashMap<>();
  private final Map<TopicPartition, Long> nextAfterSeen = new HashMap<>();
  private final Map<TopicPartition, Long> committed = new HashMap<>();

  /** A record was handed to work. */
  public synchronized void started(TopicPartition partition, long offset) {
    pending.computeIfAbsent(partition, p -> new TreeSet<>()).add(offset);
    nextAfterSeen.merge(partition, offset + 1, Math::max);
  }

  /** The work of a record finished (successfully or with its failure recorded). */
  public synchronized void finished(TopicPartition partition, long offset) {
    TreeSet<Long> set = pending.get(partition);
    if (set != null) {
      set.remove(offset);
    }
  }

  /** The offset to commit for {@code partition} now, if it moved since the last commit. */
  public synchronized Optional<Long> committable(TopicPartition partition) {
    Long next = nextAfterSeen.get(partition);
    if (next == null) {
      return Optional.empty();
    }
    TreeSet<Long> set = pending.get(partition);
    long offset = set == null || set.isEmpty() ? next : set.first();
    Long last = committed.get(partition);
    if (last != null && last >= offset) {
      return Optional.empty();
    }
    return Optional.of(offset);
  }

  /** Every partition's committable offset, marking them committed. */
  public synchronized Map<TopicPartition, Long> drainCommittable() {
    Map<TopicPartition, Long> out = new HashMap<>();
    for (TopicPartition p : nextAfterSeen.keySet()) {
      committable(p)
          .ifPresent(
              o -> {
                out.put(p, o);
                committed.put(p, o);
              });
    }
    return out;
  }

  /** Records in progress, over every partition. */
  public synchronized int inProgress() {
    return pending.values().stream().mapToInt(TreeSet::size).sum();
  }

  /** Forgets a partition that was revoked. */
  public synchronized void forget(TopicPartition partition) {
    pending.remove(partition);
    nextAfterSeen.remove(partition);
    committed.remove(partition);
  }
}
