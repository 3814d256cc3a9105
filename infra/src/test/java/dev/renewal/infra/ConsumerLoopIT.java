package dev.renewal.infra;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.contract.SampleEvents;
import dev.renewal.events.RenewalRequested;
import dev.renewal.infra.kafka.TopicProvisioner;
import dev.renewal.registry.RestSchemaRegistryClient;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.topics.ConsumerLoop;
import dev.renewal.topics.DeadLetter;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.TopicReader;
import dev.renewal.topics.TopicSettings;
import dev.renewal.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The consumer loop every service runs, on a real broker: dead letters, shutdown, commits. */
class ConsumerLoopIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir static Path work;
  static EmbeddedStack stack;

  @BeforeAll
  static void start() {
    stack = EmbeddedStack.start(work, 0, 0, new TopicSettings("", 1, (short) 1, 3_600_000));
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  private static Topics topics() {
    Topics topics =
        Topics.create(
            new TopicSettings("t" + UUID.randomUUID() + ".", 1, (short) 1, 3_600_000),
            new AvroSerdes(new RestSchemaRegistryClient(stack.registryUrl()), true));
    try (Admin admin = Admin.create(stack.clientProps())) {
      TopicProvisioner.ensure(admin, topics.all(), (short) 1);
    }
    return topics;
  }

  private static ConsumerLoop<RenewalRequested> loop(
      Topics topics,
      Publisher publisher,
      BiFunction<String, RenewalRequested, CompletableFuture<Void>> handler) {
    ConsumerLoop<RenewalRequested> loop =
        new ConsumerLoop<>(
            "it",
            stack.clientProps(),
            "it-group",
            topics.renewalRequested,
            topics.renewalRequestedDlq.name(),
            publisher,
            100,
            new ConsumerLoop.Callbacks<>(handler, p -> {}, p -> {}, () -> {}));
    return loop.start();
  }

  private static void publish(Topics topics, Publisher publisher, String id) {
    RenewalRequested r = RenewalRequested.newBuilder(SampleEvents.request()).build();
    r.setRequestId(id);
    publisher.send(topics.renewalRequested, id, r).join();
  }

  private static void await(java.util.function.BooleanSupplier condition) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waited %s", WAIT).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void workFailingWhileRunningIsDeadLetteredWithTheReason() throws Exception {
    Topics topics = topics();
    try (Publisher publisher = Publisher.create(stack.clientProps(), "it")) {
      try (var loop =
          loop(
              topics,
              publisher,
              (k, v) -> CompletableFuture.failedFuture(new IllegalStateException("boom")))) {
        await(loop::ready);
        publish(topics, publisher, "r-1");
        List<ConsumerRecord<byte[], byte[]>> dead =
            new TopicReader(stack.clientProps())
                .await(topics.renewalRequestedDlq, r -> true, 1, WAIT);
        assertThat(dead).hasSize(1);
        assertThat(DeadLetter.header(dead.get(0).headers(), DeadLetter.REASON))
            .contains("internal error while handling the record")
            .contains("boom");
        assertThat(new String(dead.get(0).key(), StandardCharsets.UTF_8)).isEqualTo("r-1");
      }
    }
  }

  @Test
  void workUnfinishedAtShutdownIsReadAgainNotDeadLettered() throws Exception {
    Topics topics = topics();
    Map<String, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();
    List<String> handled = new CopyOnWriteArrayList<>();
    try (Publisher publisher = Publisher.create(stack.clientProps(), "it")) {
      ConsumerLoop<RenewalRequested> first =
          loop(
              topics,
              publisher,
              (k, v) -> {
                handled.add(k);
                if (k.equals("done")) {
                  return CompletableFuture.completedFuture(null);
                }
                return pending.computeIfAbsent(k, x -> new CompletableFuture<>());
              });
      publish(topics, publisher, "done");
      publish(topics, publisher, "slow");
      await(() -> handled.contains("slow"));
      // Past the commit interval, so that "done" is committed while "slow" is still running.
      Thread.sleep(500);
      first.close();
      // The service's producer or pacer stops under the work: it fails after the loop closed.
      pending.get("slow").completeExceptionally(new IllegalStateException("producer closed"));

      List<String> again = new CopyOnWriteArrayList<>();
      try (var second =
          loop(
              topics,
              publisher,
              (k, v) -> {
                again.add(k);
                return CompletableFuture.completedFuture(null);
              })) {
        await(second::ready);
        await(() -> again.contains("slow"));
        Thread.sleep(500);
        assertThat(again).as("the finished record was committed").containsExactly("slow");
      }
      assertThat(
              new TopicReader(stack.clientProps())
                  .readAll(topics.renewalRequestedDlq, Duration.ofSeconds(10)))
          .isEmpty();
    }
  }

  @Test
  void workCancelledBecauseItsPartitionMovedIsNeitherDeadLetteredNorCommitted() throws Exception {
    Topics topics = topics();
    List<String> handled = new CopyOnWriteArrayList<>();
    try (Publisher publisher = Publisher.create(stack.clientProps(), "it")) {
      try (var first =
          loop(
              topics,
              publisher,
              (k, v) -> {
                handled.add(k);
                return CompletableFuture.failedFuture(
                    new java.util.concurrent.CompletionException(
                        new java.util.concurrent.CancellationException("moved away")));
              })) {
        await(first::ready);
        publish(topics, publisher, "moved");
        await(() -> handled.contains("moved"));
        Thread.sleep(500);
      }
      List<String> again = new CopyOnWriteArrayList<>();
      try (var second =
          loop(
              topics,
              publisher,
              (k, v) -> {
                again.add(k);
                return CompletableFuture.completedFuture(null);
              })) {
        await(second::ready);
        await(() -> again.contains("moved"));
      }
      assertThat(
              new TopicReader(stack.clientProps())
                  .readAll(topics.renewalRequestedDlq, Duration.ofSeconds(10)))
          .isEmpty();
    }
  }
}
