package dev.renewal.topics;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a topic from its beginning without a consumer group (nothing is committed), for tools and
 * tests: everything up to the current end, or until enough matching records have arrived. A record
 * that cannot be decoded (a foreign writer's bytes, a schema the registry does not have) is skipped
 * and counted ({@link #skipped()}), never a reason to stop reading.
 */
public final class TopicReader {
  private final Map<String, Object> clientProps;
  private final Map<String, Long> skipped = new ConcurrentSkipListMap<>();

  public TopicReader(Map<String, Object> clientProps) {
    this.clientProps = Map.copyOf(clientProps);
  }

  /** Every record now in {@code topic}, oldest first per partition. */
  public <K, V> List<ConsumerRecord<K, V>> readAll(Topic<K, V> topic, Duration timeout) {
    return typed(read(List.of(topic), r -> true, Integer.MAX_VALUE, timeout, true));
  }

  /**
   * Every record now in each of {@code topics}, read by one consumer (a command reading ten topics
   * pays one consumer's start, not ten); oldest first per partition, each decoded by its topic.
   */
  public List<ConsumerRecord<?, ?>> readAll(List<? extends Topic<?, ?>> topics, Duration timeout) {
    return read(topics, r -> true, Integer.MAX_VALUE, timeout, true);
  }

  /**
   * A compacted topic as a table: the latest value of every key now in {@code topic}, a tombstone
   * removing its key; keys in the order first seen.
   */
  public <K, V> Map<K, V> table(Topic<K, V> topic, Duration timeout) {
    Map<K, V> out = new java.util.LinkedHashMap<>();
    for (ConsumerRecord<K, V> r : readAll(topic, timeout)) {
      if (r.value() == null) {
        out.remove(r.key());
      } else {
        out.put(r.key(), r.value());
      }
    }
    return out;
  }

  /**
   * Waits until {@code count} records matching {@code filter} are in {@code topic} (or the timeout
   * passes) and returns the matching ones seen.
   */
  public <K, V> List<ConsumerRecord<K, V>> await(
      Topic<K, V> topic, Predicate<ConsumerRecord<K, V>> filter, int count, Duration timeout) {
    return typed(read(List.of(topic), r -> filter.test(typed(r)), count, timeout, false));
  }

  /** The same over several topics at once (one consumer), each record decoded by its topic. */
  public List<ConsumerRecord<?, ?>> await(
      List<? extends Topic<?, ?>> topics,
      Predicate<ConsumerRecord<?, ?>> filter,
      int count,
      Duration timeout) {
    return read(topics, filter, count, timeout, false);
  }

  /** Records of one topic, decoded by that topic's serdes: of its key and value types. */
  @SuppressWarnings("unchecked")
  private static <K, V> List<ConsumerRecord<K, V>> typed(List<ConsumerRecord<?, ?>> records) {
    return (List<ConsumerRecord<K, V>>) (List<?>) records;
  }

  @SuppressWarnings("unchecked")
  private static <K, V> ConsumerRecord<K, V> typed(ConsumerRecord<?, ?> record) {
    return (ConsumerRecord<K, V>) record;
  }

  /** How many records could not be decoded, per topic, in every read so far. */
  public Map<String, Long> skipped() {
    return Map.copyOf(skipped);
  }

  /** "skipped 2 undecodable records: renewal.requested 2", or empty when none were skipped. */
  public Optional<String> skippedSummary() {
    if (skipped.isEmpty()) {
      return Optional.empty();
    }
    long total = skipped.values().stream().mapToLong(Long::longValue).sum();
    StringBuilder b =
        new StringBuilder(
            "skipped " + total + " undecodable record" + (total == 1 ? "" : "s") + ":");
    skipped.forEach((t, n) -> b.append(' ').append(t).append(' ').append(n));
    return Optional.of(b.toString());
  }

  private List<ConsumerRecord<?, ?>> read(
      List<? extends Topic<?, ?>> topics,
      Predicate<ConsumerRecord<?, ?>> filter,
      int count,
      Duration timeout,
      boolean stopAtEnd) {
    Map<String, Topic<?, ?>> byName = new HashMap<>();
    topics.forEach(t -> byName.put(t.name(), t));
    Map<String, Object> props = new HashMap<>(clientProps);
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.putIfAbsent(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<?, ?>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      // Topics created a moment ago may not be in the metadata yet: ask again, within the timeout,
      // while none of them is (one that does not exist at all is read as empty).
      long metadataDeadline =
          System.nanoTime() + Math.min(timeout.toNanos(), Duration.ofSeconds(10).toNanos());
      while (true) {
        for (Topic<?, ?> t : topics) {
          for (PartitionInfo p : consumer.partitionsFor(t.name(), timeout)) {
            partitions.add(new TopicPartition(p.topic(), p.partition()));
          }
        }
        if (!partitions.isEmpty() || System.nanoTime() > metadataDeadline) {
          break;
        }
        try {
          // A tool's reader (CLI, tests), never a service's consumer thread.
          java.util.concurrent.TimeUnit.MILLISECONDS.sleep(50);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return out;
        }
      }
      if (partitions.isEmpty()) {
        return out;
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end =
          stopAtEnd ? consumer.endOffsets(partitions, timeout) : Map.of();
      long deadline = System.nanoTime() + timeout.toNanos();
      while (out.size() < count && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> raw : consumer.poll(Duration.ofMillis(100))) {
          Optional<? extends ConsumerRecord<?, ?>> r =
              Decoding.decode(raw, byName.get(raw.topic()));
          if (r.isEmpty()) {
            skipped.merge(raw.topic(), 1L, Long::sum);
          } else if (filter.test(r.get())) {
            out.add(r.get());
          }
        }
        if (stopAtEnd
            && partitions.stream().allMatch(tp -> consumer.position(tp, timeout) >= end.get(tp))) {
          break;
        }
      }
    }
    return out;
  }
}
