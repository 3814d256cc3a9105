package dev.renewal.topics;

import dev.renewal.serde.UndecodableRecordException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.function.BiFunction;
import java.util.function.Consumer;
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
 * The consumer loop every service runs. Its thread only polls, decodes, hands each value to the
 * service's handler (which returns at once with a future) and commits offsets of finished work; it
 * never waits on a CA. Records it cannot decode, and records whose handling failed unexpectedly, go
 * to the dead-letter topic with the reason; the next record is processed. Offsets are committed per
 * partition only up to the oldest record still in progress (at-least-once), at most every {@link
 * #COMMIT_EVERY}. When too much work is pending, the loop pauses its partitions instead of reading
 * further.
 */
public final class ConsumerLoop<V> implements AutoCloseable {
  private static final Logger LOGGER = LoggerFactory.getLogger(ConsumerLoop.class);

  /**
   * Finished offsets are committed at most this often (and on revocation and close): a commit per
   * poll cost the broker more than any other request of the pipeline (docs/benchmarks.md). A crash
   * re-reads at most this much finished work, which the handlers recognise from their records.
   */
  static final Duration COMMIT_EVERY = Duration.ofSeconds(1);

  /** What the loop calls; the handler returns a future and never blocks. */
  public record Callbacks<V>(
      BiFunction<String, V, CompletableFuture<Void>> handler,
      Consumer<Collection<Integer>> onAssigned,
      Consumer<Collection<Integer>> onRevoked,
      Runnable onDeadLetter) {}

  private final String service;
  private final Topic<String, V> input;
  private final String dlqTopic;
  private final Callbacks<V> callbacks;
  private final Publisher publisher;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final OffsetTracker offsets = new OffsetTracker();
  private final int maxPending;
  private final Thread thread;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean running = true;
  private volatile boolean ready;

  public ConsumerLoop(
      String service,
      Map<String, Object> clientProps,
      String groupId,
      Topic<String, V> input,
      String dlqTopic,
      Publisher publisher,
      int maxPending,
      Callbacks<V> callbacks) {
    this.service = service;
    this.input = input;
    this.dlqTopic = dlqTopic;
    this.publisher = publisher;
    this.maxPending = maxPending;
    this.callbacks = callbacks;
    Map<String, Object> props = new HashMap<>(clientProps);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    // Some inputs are written in transactions (finalize-service's Streams output): never act on
    // an aborted record.
    props.putIfAbsent(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, service + "-" + groupId);
    this.consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.thread = new Thread(this::run, service + "-consumer");
  }

  public synchronized ConsumerLoop<V> start() {
    thread.start();
    return this;
  }

  /** True once partitions are assigned and the service's records for them loaded. */
  public boolean ready() {
    return ready;
  }

  /** Records handed to the handler and not finished yet. */
  public int inProgress() {
    return offsets.inProgress();
  }

  private void run() {
    try {
      consumer.subscribe(List.of(input.name()), new Rebalance());
      boolean paused = false;
      long lastCommit = System.nanoTime();
      while (running) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
          dispatch(record);
        }
        if (System.nanoTime() - lastCommit >= COMMIT_EVERY.toNanos()) {
          commit();
          lastCommit = System.nanoTime();
        }
        boolean full = offsets.inProgress() >= maxPending;
        if (full && !paused) {
          consumer.pause(consumer.assignment());
          paused = true;
          LOGGER.info("pausing: service={} inProgress={}", service, offsets.inProgress());
        } else if (!full && paused) {
          consumer.resume(consumer.paused());
          paused = false;
        }
      }
    } catch (WakeupException e) {
      // close() was called
    } catch (RuntimeException e) {
      LOGGER.error("consumer loop stopped on an unexpected error: service={}", service, e);
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
    V value;
    try {
      value =
          input
              .valueSerde()
              .deserializer()
              .deserialize(record.topic(), record.headers(), record.value());
    } catch (SerializationException e) {
      String reason =
          e instanceof UndecodableRecordException u ? u.reason() : "undecodable: " + e.getMessage();
      deadLetter(record, tp, reason, e);
      return;
    }
    if (value == null) {
      deadLetter(record, tp, "empty value (a tombstone is not an event)", null);
      return;
    }
    CompletableFuture<Void> work;
    try {
      work = callbacks.handler().apply(key, value);
    } catch (RuntimeException e) {
      work = CompletableFuture.failedFuture(e);
    }
    work.whenComplete(
        (v, e) -> {
          if (e == null) {
            offsets.finished(tp, record.offset());
          } else if (cancelled(e)) {
            // The partition moved away while the work was in flight, and the handler stopped it:
            // the offset is not committed here, the partition's next owner reads the record again.
            LOGGER.info(
                "record left to the partition's next owner: service={} partition={} key={}",
                service,
                tp,
                key);
          } else if (!running) {
            // Closing: the service's producer or pacer stopped under the work. Its offset is not
            // committed, so the record is read again after the restart; it is not a dead letter.
            LOGGER.info(
                "record unfinished at shutdown, it will be read again: service={} key={} error={}",
                service,
                key,
                e.toString());
          } else {
            LOGGER.error(
                "record could not be handled, sending it to the dead-letter topic: service={}"
                    + " key={}",
                service,
                key,
                e);
            deadLetter(record, tp, "internal error while handling the record: " + e, e);
          }
        });
  }

  private static boolean cancelled(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof java.util.concurrent.CancellationException) {
        return true;
      }
    }
    return false;
  }

  private void deadLetter(
      ConsumerRecord<byte[], byte[]> record, TopicPartition tp, String reason, Throwable error) {
    callbacks.onDeadLetter().run();
    LOGGER.warn(
        "dead-lettering a record: topic={} partition={} offset={} reason={}",
        record.topic(),
        record.partition(),
        record.offset(),
        reason);
    publisher
        .sendRaw(DeadLetter.of(record, dlqTopic, reason, error, service))
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
      callbacks.onRevoked().accept(partitions.stream().map(TopicPartition::partition).toList());
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      callbacks.onAssigned().accept(partitions.stream().map(TopicPartition::partition).toList());
      ready = true;
      LOGGER.info("partitions assigned: service={} partitions={}", service, partitions);
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      if (!thread.isAlive() && stopped.getCount() > 0) {
        // Never started: nothing polls, so close the consumer here.
        consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        stopped.countDown();
        return;
      }
    }
    running = false;
    consumer.wakeup();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
