package dev.renewal.testkit;

import dev.renewal.acme.CaCalls;
import dev.renewal.acme.CaProfile;
import dev.renewal.acme.Pacer;
import dev.renewal.acme.RetryPolicy;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.registry.InMemorySchemaRegistryClient;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.TopicSettings;
import dev.renewal.topics.Topics;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.shredzone.acme4j.Problem;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.shredzone.acme4j.toolbox.JSON;

/**
 * What a handler's unit test runs on, without a broker or a CA: CA worker threads and a scheduler,
 * the topic catalogue on an in-memory registry, a {@link MockProducer} and what was sent to it. The
 * test brings its own scripted CA (a gateway that fails on any call it was not told about).
 */
public final class HandlerFixture implements AutoCloseable {
  /** The one CA profile of these tests. */
  public static final String PROFILE = "pebble";

  private final ExecutorService workers;
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private final AvroSerdes serdes = new AvroSerdes(new InMemorySchemaRegistryClient(), true);
  private final Topics topics = Topics.create(new TopicSettings("", 3, (short) 1, 1000), serdes);
  private MockProducer<byte[], byte[]> producer = producer(true);
  private Publisher publisher = new Publisher(producer);

  /** With {@code workers} CA worker threads. */
  public HandlerFixture(int workers) {
    this.workers = Executors.newFixedThreadPool(workers);
  }

  /**
   * The profile {@value #PROFILE} at {@code https://ca.example/dir}, with {@code maxInFlight} CA
   * calls at once, 1,000 per second and the given retries and deadlines.
   */
  public static CaProfile profile(
      int maxInFlight, RetryPolicy retry, Duration authorizationDeadline, Duration orderDeadline) {
    return new CaProfile(
        PROFILE,
        URI.create("https://ca.example/dir"),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        List.of(),
        true,
        maxInFlight,
        1000,
        Duration.ofSeconds(5),
        retry,
        authorizationDeadline,
        orderDeadline);
  }

  /** The same with 2 CA calls at once and {@code retries(3, 1 s, 10 s)}. */
  public static CaProfile profile(Duration authorizationDeadline, Duration orderDeadline) {
    return profile(
        2,
        retries(3, Duration.ofSeconds(1), Duration.ofSeconds(10)),
        authorizationDeadline,
        orderDeadline);
  }

  /** Quick retries: {@code attempts} at most, 10 ms doubling, within {@code budget}. */
  public static RetryPolicy retries(int attempts, Duration maxDelay, Duration budget) {
    return new RetryPolicy(attempts, Duration.ofMillis(10), Duration.ofMillis(1), maxDelay, budget);
  }

  /** The CA calls of a handler: {@code profile}'s pacer on this fixture's threads. */
  public CaCalls caCalls(CaProfile profile, ServiceMetrics metrics) {
    return new CaCalls(
        Map.of(profile.name(), new Pacer(profile.maxInFlight(), 1000, workers, scheduler)),
        publisher,
        topics,
        Clock.systemUTC(),
        metrics);
  }

  public ScheduledExecutorService scheduler() {
    return scheduler;
  }

  public Topics topics() {
    return topics;
  }

  public AvroSerdes serdes() {
    return serdes;
  }

  public MockProducer<byte[], byte[]> producer() {
    return producer;
  }

  public Publisher publisher() {
    return publisher;
  }

  /**
   * From now on, sends complete only when the test says so ({@link MockProducer#completeNext()}):
   * build the handler after this call.
   */
  public void completeSendsByHand() {
    producer = producer(false);
    publisher = new Publisher(producer);
  }

  /** Every value sent to {@code topic}, decoded, in order. */
  public <T extends SpecificRecord> List<T> sent(String topic, Class<T> type) {
    var deserializer = serdes.value(type).deserializer();
    List<T> out = new ArrayList<>();
    for (ProducerRecord<byte[], byte[]> r : producer.history()) {
      if (r.topic().equals(topic)) {
        out.add(deserializer.deserialize(topic, r.value()));
      }
    }
    return out;
  }

  /** What a gateway throws when the CA answers with the problem document {@code json}. */
  public static RuntimeException caError(String json) {
    try {
      return new RuntimeException(
          new AcmeServerException(new Problem(JSON.parse(json), new URL("https://ca.example/x"))));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static MockProducer<byte[], byte[]> producer(boolean autoComplete) {
    return new MockProducer<>(
        autoComplete, null, new ByteArraySerializer(), new ByteArraySerializer());
  }

  @Override
  public void close() {
    workers.shutdownNow();
    scheduler.shutdownNow();
  }
}
