package dev.renewal.challenge.http01;

import dev.renewal.topics.Publisher;
import dev.renewal.topics.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP-01 key authorizations by token, shared by every challenge-service instance through the
 * compacted topic {@code acme.http01.responses}: each instance reads every partition of it, from
 * the beginning and then as it grows, so that any instance (several behind a load balancer) answers
 * any token. A tombstone removes a token.
 */
public final class Http01Responses implements AutoCloseable {
  private static final Logger LOGGER = LoggerFactory.getLogger(Http01Responses.class);

  private final Topic<String, String> topic;
  private final Publisher publisher;
  private final KeyAuthorizations tokens = new KeyAuthorizations();
  private final KafkaConsumer<String, String> consumer;
  private final Thread thread;
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private volatile boolean running = true;

  public Http01Responses(
      Topic<String, String> topic, Publisher publisher, Map<String, Object> clientProps) {
    this.topic = topic;
    this.publisher = publisher;
    Map<String, Object> props = new HashMap<>(clientProps);
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    this.consumer =
        new KafkaConsumer<>(
            props, topic.keySerde().deserializer(), topic.valueSerde().deserializer());
    this.thread = new Thread(this::run, "http01-responses");
    this.thread.setDaemon(true);
  }

  /** Starts reading; returns once the topic has been read to its current end. */
  public Http01Responses start(Duration timeout) {
    thread.start();
    try {
      if (!caughtUp.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("timed out reading " + topic.name());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return this;
  }

  private void run() {
    try {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo p : consumer.partitionsFor(topic.name(), Duration.ofSeconds(30))) {
        partitions.add(new TopicPartition(p.topic(), p.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (running) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
          if (r.value() == null) {
            tokens.remove(r.key());
          } else {
            tokens.put(r.key(), r.value());
          }
        }
        if (caughtUp.getCount() > 0
            && partitions.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp))) {
          caughtUp.countDown();
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      LOGGER.error("stopped reading {}: HTTP-01 tokens will not be updated", topic.name(), e);
    } finally {
      consumer.close(CloseOptions.timeout(Duration.ofSeconds(2)));
    }
  }

  /** The key authorization for {@code token}, if any instance published it. */
  public Optional<String> get(String token) {
    return tokens.get(token);
  }

  /**
   * Completes once this instance has read {@code keyAuthorization} for {@code token} from the topic
   * (at once if it already has), i.e. once its responder answers with it. Lets the self-check ask
   * the responder over HTTP when the answer is there instead of asking until it is. Never completes
   * if the value is not read: callers bound the wait ({@link #forget} afterwards).
   */
  public CompletableFuture<Void> whenRead(String token, String keyAuthorization) {
    return tokens.whenRead(token, keyAuthorization);
  }

  /** Stops waiting for {@code read} (a future {@link #whenRead} returned), e.g. after a timeout. */
  public void forget(String token, CompletableFuture<Void> read) {
    tokens.forget(token, read);
  }

  /** Self-checks waiting for their token to be read back (the gauge {@code selfcheck.waiting}). */
  public int waiting() {
    return tokens.waiting();
  }

  /** Publishes {@code keyAuthorization} for {@code token}; completes when the broker has it. */
  public CompletableFuture<Void> publish(String token, String keyAuthorization) {
    return publisher.send(topic, token, keyAuthorization).thenRun(() -> {});
  }

  /** Removes {@code token} (a tombstone). */
  public CompletableFuture<Void> remove(String token) {
    return publisher.send(topic, token, null).thenRun(() -> {});
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
