package dev.renewal.order.handler;

import dev.renewal.events.RenewalRequested;
import dev.renewal.serde.UndecodableRecordException;
import dev.renewal.topics.DeadLetter;
import dev.renewal.topics.OffsetTracker;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.Topic;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer loop of order-service. Its thread only polls, decodes, hands each request to the
 * {@link RequestHandler} and commits offsets of finished work; it never waits on the CA. Records it
 * cannot decode go to the dead-letter topic with the reason; then the next record is processed.
 * When too much work is pending, it pauses its partitions instead of reading further.
 */
public final class OrderService implements AutoCloseable {
  private static final Logger LOGGER = LoggerFactory.getLogger(OrderService.class);
  public static final String SERVICE = "order-service";

  private final Topic<String, RenewalRequested> requests;
  private final String dlqTopic;
  private final RequestHandler handler;
  private final OrderRecords records;
  private final Publisher publisher;
  private final OrderMetrics metrics;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final OffsetTracker offsets = new OffsetTracker();
  private final int maxPending;
  private final Thread thread;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean running = true;
  private volatile boolean ready;

  public OrderService(
      Map<String, Object> clientProps,
      String groupId,
      Topic<String, RenewalRequested> requests,
      String dlqTopic,
      RequestHandler handler,
      OrderRecords records,
      Publisher publisher,
      OrderMetrics metrics,
      int maxPending) {
    this.requests = requests;
    this.dlqTopic = dlqTopic;
    this.handler = handler;
    this.records = records;
    this.publisher = publisher;
    this.metrics = metrics;
    this.maxPending = maxPending;
    Map<String, Object> props = new HashMap<>(clientProps);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, SERVICE + "-" + groupId);
    this.consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.thread = new Thread(this::run, SERVICE + "-consumer");
  }

  public OrderService start() {
    thread.start();
    return this;
  }

  /** True once partitions are assigned and their records loaded. */
  public boolean ready() {
    return ready;
  }

  private void run() {
    try {
      consumer.subscribe(List.of(requests.name()), new Rebalance());
      boolean paused = false;
      while (running) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
          dispatch(record);
        }
        commit();
        boolean full = offsets.inProgress() >= maxPending;
        if (full && !paused) {
          consumer.pause(consumer.assignment());
          paused = true;
          LOGGER.info("pausing: {} requests in progress", offsets.inProgress());
        } else if (!full && paused) {
          consumer.resume(consumer.paused());
          paused = false;
        }
      }
    } catch (WakeupException e) {
      // close() was called
    } catch (RuntimeException e) {
      LOGGER.error("order-service consumer stopped on an unexpected error", e);
    } finally {
      try {
        commit();
        consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
      } catch (RuntimeException e) {
        LOGGER.warn("closing the consumer failed", e);
      }
      stopped.countDown();
    }
  }

  private void dispatch(ConsumerRecord<byte[], byte[]> record) {
    TopicPartition tp = new TopicPartition(record.topic(), record.partition());
    offsets.started(tp, record.offset());
    String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
    RenewalRequested request;
    try {
      request =
          requests
              .valueSerde()
              .deserializer()
              .deserialize(record.topic(), record.headers(), record.value());
    } catch (SerializationException e) {
      String reason =
          e instanceof UndecodableRecordException u ? u.reason() : "undecodable: " + e.getMessage();
      deadLetter(record, tp, reason, e);
      return;
    }
    if (request == null) {
      deadLetter(record, tp, "empty value (a tombstone is not a renewal request)", null);
      return;
    }
    CompletableFuture<Void> work;
    try {
      work = handler.handle(key, request);
    } catch (RuntimeException e) {
      work = CompletableFuture.failedFuture(e);
    }
    work.whenComplete(
        (v, e) -> {
          if (e == null) {
            offsets.finished(tp, record.offset());
          } else {
            LOGGER.error(
                "request could not be handled, sending it to the dead-letter topic: requestId={}",
                request.getRequestId(),
                e);
            deadLetter(record, tp, "internal error while handling the request: " + e, e);
          }
        });
  }

  private void deadLetter(
      ConsumerRecord<byte[], byte[]> record, TopicPartition tp, String reason, Throwable error) {
    metrics.deadLettered();
    LOGGER.warn(
        "dead-lettering a record: topic={} partition={} offset={} reason={}",
        record.topic(),
        record.partition(),
        record.offset(),
        reason);
    publisher
        .sendRaw(DeadLetter.of(record, dlqTopic, reason, error, SERVICE))
        .whenComplete(
            (m, e) -> {
              if (e != null) {
                LOGGER.error(
                    "cannot write to the dead-letter topic; the record will be read again after a"
                        + " restart: offset={}",
                    record.offset(),
                    e);
                return;
              }
              offsets.finished(tp, record.offset());
            });
  }

  private void commit() {
    Map<TopicPartition, Long> done = offsets.drainCommittable();
    if (done.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
    done.forEach((tp, o) -> commit.put(tp, new OffsetAndMetadata(o)));
    consumer.commitAsync(
        commit,
        (o, e) -> {
          if (e != null) {
            LOGGER.warn("offset commit failed (will commit again): {}", e.toString());
          }
        });
  }

  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
      for (TopicPartition tp : partitions) {
        offsets.committable(tp).ifPresent(o -> commit.put(tp, new OffsetAndMetadata(o)));
        offsets.forget(tp);
      }
      if (!commit.isEmpty()) {
        consumer.commitSync(commit);
      }
      records.unload(
          partitions.stream().map(TopicPartition::partition).toList(), requests.partitions());
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      records.load(partitions.stream().map(TopicPartition::partition).toList());
      ready = true;
      LOGGER.info("partitions assigned: {}", partitions);
    }
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
