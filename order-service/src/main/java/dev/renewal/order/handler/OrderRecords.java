package dev.renewal.order.handler;

import dev.renewal.events.OrderRecord;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.Topic;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * order-service's records (what it did for each request), kept in the compacted topic {@code
 * acme.order.records} and materialized in memory for the partitions this instance owns. The topic
 * is co-partitioned with {@code renewal.requested}: the instance that consumes a request's
 * partition is the only writer of its record.
 */
public final class OrderRecords {
  private static final Logger LOGGER = LoggerFactory.getLogger(OrderRecords.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final Topic<String, OrderRecord> topic;
  private final Publisher publisher;
  private final Map<String, Object> clientProps;
  private final Map<String, OrderRecord> byRequest = new ConcurrentHashMap<>();

  public OrderRecords(
      Topic<String, OrderRecord> topic, Publisher publisher, Map<String, Object> clientProps) {
    this.topic = topic;
    this.publisher = publisher;
    this.clientProps = Map.copyOf(clientProps);
  }

  /**
   * Reads the records of {@code partitions} (by number, the same as the request topic's) to their
   * end. Called when partitions are assigned, before their requests are processed.
   */
  public void load(Collection<Integer> partitions) {
    if (partitions.isEmpty()) {
      return;
    }
    long started = System.nanoTime();
    Map<String, Object> props = new HashMap<>(clientProps);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    List<TopicPartition> tps =
        partitions.stream().map(p -> new TopicPartition(topic.name(), p)).toList();
    int loaded = 0;
    try (KafkaConsumer<String, OrderRecord> consumer =
        new KafkaConsumer<>(
            props, topic.keySerde().deserializer(), topic.valueSerde().deserializer())) {
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      Map<TopicPartition, Long> end = consumer.endOffsets(tps, TIMEOUT);
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (tps.stream().anyMatch(tp -> consumer.position(tp, TIMEOUT) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("timed out loading " + topic.name() + " " + partitions);
        }
        for (ConsumerRecord<String, OrderRecord> r : consumer.poll(Duration.ofMillis(100))) {
          if (r.value() == null) {
            byRequest.remove(r.key());
          } else {
            byRequest.put(r.key(), r.value());
          }
          loaded++;
        }
      }
    }
    LOGGER.info(
        "order records loaded: partitions={} records={} ms={}",
        partitions,
        loaded,
        (System.nanoTime() - started) / 1_000_000);
  }

  /** Forgets the records of partitions this instance no longer owns. */
  public void unload(Collection<Integer> partitions, int partitionCount) {
    byRequest.keySet().removeIf(k -> partitions.contains(partitionOf(k, partitionCount)));
  }

  private static int partitionOf(String key, int partitionCount) {
    return org.apache.kafka.common.utils.Utils.toPositive(
            org.apache.kafka.common.utils.Utils.murmur2(
                key.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        % partitionCount;
  }

  public Optional<OrderRecord> get(String requestId) {
    return Optional.ofNullable(byRequest.get(requestId));
  }

  /** Writes {@code record}; completes once the broker has it (and then it is visible here). */
  public CompletableFuture<Void> put(OrderRecord record) {
    return publisher
        .send(topic, record.getRequestId(), record)
        .thenRun(() -> byRequest.put(record.getRequestId(), record));
  }
}
