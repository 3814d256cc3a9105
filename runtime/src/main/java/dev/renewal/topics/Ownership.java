package dev.renewal.topics;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToIntFunction;

/**
 * Which flow owns each key's work on this instance: a generation per start, resume or delivery.
 * When a partition is revoked its keys are dropped, and a flow whose generation is no longer the
 * owner's must emit nothing, write nothing and remove nothing from then on: the partition's next
 * owner (perhaps this instance again, a moment later) has read the records to their end and goes on
 * from there. Its size is the work in flight here.
 */
public final class Ownership {
  private final Map<String, Long> owners = new ConcurrentHashMap<>();
  private final AtomicLong generations = new AtomicLong();
  private final ToIntFunction<String> partitionOf;

  /**
   * @param partitionOf the partition of a key (as {@link CompactedStore#partitionOf} places it)
   */
  public Ownership(ToIntFunction<String> partitionOf) {
    this.partitionOf = partitionOf;
  }

  /** A new flow owns {@code key}; its generation. Any earlier flow of the key loses it. */
  public long own(String key) {
    long gen = generations.incrementAndGet();
    owners.put(key, gen);
    return gen;
  }

  /** Whether flow {@code gen} still owns {@code key}. */
  public boolean owns(String key, long gen) {
    Long owner = owners.get(key);
    return owner != null && owner == gen;
  }

  /** Flow {@code gen}'s work on {@code key} ended (unless a newer flow owns it by now). */
  public void release(String key, long gen) {
    owners.remove(key, gen);
  }

  /** Drops the keys of {@code partitions} (revoked); returns them. */
  public List<String> revoke(Collection<Integer> partitions) {
    List<String> dropped =
        owners.keySet().stream()
            .filter(k -> partitions.contains(partitionOf.applyAsInt(k)))
            .toList();
    dropped.forEach(owners::remove);
    return dropped;
  }

  /** How many keys have work in flight here. */
  public int size() {
    return owners.size();
  }
}
