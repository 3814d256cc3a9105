package dev.renewal.topics;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A service's own records on a compacted topic, materialized in memory for the partitions this
 * instance owns. The topic is co-partitioned with the topic the service consumes (same key, same
 * partition count), so the instance that owns a key's input partition is the only writer of its
 * record. Records of newly assigned partitions are read to their end before their input is
 * processed.
 */
public final class CompactedStore<V> {
  private static final Logger LOGGER = LoggerFactory.getLogger(CompactedStore.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final Topic<String, V> topic;
  private final Publisher publisher;
  private final Map<String, Object> clientProps;
  private final Map<String, V> byKey = new ConcurrentHashMap<>();
  private final Map<String, CompletableFuture<Void>> writes = new ConcurrentHashMap<>();

  public CompactedStore(
      Topic<String, V> topic, Publisher publisher, Map<String, Object> clientProps) {
    if (!topic.compacted()) {
      // Only the latest record per key survives a restart on a compacted topic; on any other
      // topic the store would be reloaded from every change ever written.
      throw new IllegalArgumentException(
          "a compacted store needs a compacted topic: " + topic.name() + " is not");
    }
    this.topic = topic;
    this.publisher = publisher;
    this.clientProps = Map.copyOf(clientProps);
  }

  /** Reads the records of {@code partitions} to their end; returns what was loaded. */
  public Map<String, V> load(Collection<Integer> partitions) {
    Map<String, V> loaded = new HashMap<>();
    if (partitions.isEmpty()) {
      return loaded;
    }
    long started = System.nanoTime();
    Map<String, Object> props = new HashMap<>(clientProps);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    List<TopicPartition> tps =
        partitions.stream().map(p -> new TopicPartition(topic.name(), p)).toList();
    Deserializer<String> keys = topic.keySerde().deserializer();
    Deserializer<V> values = topic.valueSerde().deserializer();
    int skipped = 0;
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      Map<TopicPartition, Long> end = consumer.endOffsets(tps, TIMEOUT);
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (tps.stream().anyMatch(tp -> consumer.position(tp, TIMEOUT) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("timed out loading " + topic.name() + " " + partitions);
        }
        for (ConsumerRecord<byte[], byte[]> raw : consumer.poll(Duration.ofMillis(100))) {
          Optional<ConsumerRecord<String, V>> decoded = Decoding.decode(raw, keys, values);
          if (decoded.isEmpty()) {
            // Not written by this service (it writes only what it can read back): skipped, and
            // said, so that one foreign record cannot stop the service at every assignment.
            skipped++;
            LOGGER.warn(
                "undecodable record skipped: topic={} partition={} offset={}",
                raw.topic(),
                raw.partition(),
                raw.offset());
            continue;
          }
          ConsumerRecord<String, V> r = decoded.get();
          if (r.value() == null) {
            loaded.remove(r.key());
          } else {
            loaded.put(r.key(), r.value());
          }
        }
      }
    }
    byKey.putAll(loaded);
    LOGGER.info(
        "records loaded: topic={} partitions={} records={} skipped={} ms={}",
        topic.name(),
        partitions,
        loaded.size(),
        skipped,
        (System.nanoTime() - started) / 1_000_000);
    return loaded;
  }

  /** Forgets the records of partitions this instance no longer owns. */
  public void unload(Collection<Integer> partitions) {
    byKey.keySet().removeIf(k -> partitions.contains(partitionOf(k)));
  }

  /** The partition of {@code key}, as Kafka's default partitioner places string keys. */
  public int partitionOf(String key) {
    return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8)))
        % topic.partitions();
  }

  public Optional<V> get(String key) {
    return Optional.ofNullable(byKey.get(key));
  }

  /**
   * Read-modify-write of {@code key}'s record, one at a time per key: each change is applied to the
   * record the previous one left (null when there is none), so concurrent updates of one record are
   * never lost. Completes once the broker has the result.
   */
  public CompletableFuture<Void> update(String key, java.util.function.UnaryOperator<V> change) {
    synchronized (writes) {
      CompletableFuture<Void> next =
          writes
              .getOrDefault(key, CompletableFuture.completedFuture(null))
              .exceptionally(e -> null)
              .thenCompose(v -> put(key, change.apply(byKey.get(key))));
      writes.put(key, next);
      next.whenComplete(
          (v, e) -> {
            synchronized (writes) {
              writes.remove(key, next);
            }
          });
      return next;
    }
  }

  /** Writes {@code value}; completes once the broker has it (and then it is visible here). */
  public CompletableFuture<Void> put(String key, V value) {
    return publisher.send(topic, key, value).thenRun(() -> byKey.put(key, value));
  }
}
