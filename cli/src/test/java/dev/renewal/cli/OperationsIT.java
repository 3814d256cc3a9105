package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.contract.SampleEvents;
import dev.renewal.events.CertificateCommand;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.ManagedCertificate;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.infra.EmbeddedStack;
import dev.renewal.infra.kafka.TopicProvisioner;
import dev.renewal.registry.RestSchemaRegistryClient;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.TopicReader;
import dev.renewal.topics.TopicSettings;
import dev.renewal.topics.Topics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** publish, status and replay against the real broker and registry. */
class OperationsIT {
  @TempDir static Path work;
  static EmbeddedStack stack;
  String prefix;
  Topics topics;

  record Result(int rc, String out, String err) {}

  @BeforeAll
  static void start() {
    stack =
        EmbeddedStack.start(
            work.resolve("stack"), 0, 0, new TopicSettings("", 3, (short) 1, 3_600_000));
  }

  @AfterAll
  static void stop() {
    stack.close();
  }

  @BeforeEach
  void topics(TestInfo info) {
    prefix = info.getTestMethod().orElseThrow().getName() + ".";
    topics =
        Topics.create(
            new TopicSettings(prefix, 3, (short) 1, 3_600_000),
            new AvroSerdes(new RestSchemaRegistryClient(stack.registryUrl()), true));
    try (Admin admin = Admin.create(stack.clientProps())) {
      TopicProvisioner.ensure(admin, topics.all(), (short) 1);
    }
  }

  private Result cli(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(
        List.of(
            "--set",
            "kafka.bootstrap.servers=" + stack.bootstrapServers(),
            "--set",
            "registry.url=" + stack.registryUrl()));
    if (all.stream().noneMatch(a -> a.startsWith("topics.prefix="))) {
      all.addAll(List.of("--set", "topics.prefix=" + prefix));
    }
    CommandLine cli = RenewalCli.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int rc = cli.execute(all.toArray(String[]::new));
    return new Result(rc, out.toString(), err.toString());
  }

  private List<RenewalRequested> requests() {
    return new TopicReader(stack.clientProps())
        .readAll(topics.renewalRequested, Duration.ofSeconds(10)).stream()
            .map(r -> r.value())
            .toList();
  }

  @Test
  void topicsCreateMakesTheMissingTopicsOnceAndListsTheCatalogue() throws Exception {
    Result first = cli("topics", "--create", "--set", "topics.prefix=fresh.");
    assertThat(first.rc()).as(first.err()).isZero();
    int n = topics.all().size();
    assertThat(first.out())
        .contains("fresh.renewal.requested")
        .contains("fresh.acme.order.records")
        .contains("compact")
        .contains("created " + n + ", already there 0");
    List<String> expected =
        topics.all().stream().map(t -> "fresh." + t.name().substring(prefix.length())).toList();
    try (Admin admin = Admin.create(stack.clientProps())) {
      // The broker's metadata follows the controller's within moments.
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (!admin.listTopics().names().get().containsAll(expected)
          && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(admin.listTopics().names().get()).containsAll(expected);
    }
    Result second = cli("topics", "--create", "--set", "topics.prefix=fresh.");
    assertThat(second.out()).contains("created 0, already there " + n);
  }

  @Test
  void publishOnceWithItsRenewalRuleAndKeyPolicyAndABadRuleIsRefused() {
    Result r =
        cli(
            "publish",
            "--name",
            "once",
            "--domains",
            "once.example",
            "--ca",
            "pebble",
            "--once",
            "--renew-before",
            "25%",
            "--reuse-key");
    assertThat(r.rc()).as(r.err()).isZero();
    RenewalRequested published = requests().get(0);
    assertThat(published.getManaged()).isFalse();
    assertThat(published.getRenewBefore()).isEqualTo("25%");
    assertThat(published.getKeyPolicy().toString()).isEqualTo("REUSE");
    Result bad = cli("publish", "--name", "x", "--domains", "x.example", "--renew-before", "soon");
    assertThat(bad.rc()).isEqualTo(2);
    assertThat(bad.err().trim())
        .startsWith("publish: --renew-before: not a duration")
        .doesNotContain("\n");
    assertThat(requests()).hasSize(1);
  }

  @Test
  void renewAndUnmanageNameOnlyCertificatesOfTheInventoryAndPublishTheirCommand() {
    Result unknown = cli("renew", "nobody");
    assertThat(unknown.rc()).isEqualTo(2);
    assertThat(unknown.err())
        .contains("not in the inventory (renewal certificates lists it): nobody");
    assertThat(cli("certificates").out()).contains("no managed certificates");
    ManagedCertificate shop =
        ManagedCertificate.newBuilder()
            .setCertificateName("shop")
            .setManaged(true)
            .setAttempts(new ArrayList<>())
            .setUpdatedAt(Instant.now())
            .build();
    try (Publisher p = Publisher.create(stack.clientProps(), "it")) {
      p.send(topics.inventory, "shop", shop).join();
    }
    assertThat(cli("certificates").out()).contains("shop").contains("not issued yet");
    Result mixed = cli("renew", "shop", "nobody");
    assertThat(mixed.rc()).isEqualTo(2);
    assertThat(cli("renew", "shop").rc()).isZero();
    assertThat(cli("unmanage", "shop").rc()).isZero();
    List<CertificateCommand> commands =
        new TopicReader(stack.clientProps())
            .readAll(topics.commands, Duration.ofSeconds(10)).stream().map(x -> x.value()).toList();
    assertThat(commands)
        .extracting(c -> c.getCertificateName() + " " + c.getAction())
        .containsExactly("shop RENEW", "shop UNMANAGE");
    Result json = cli("certificates", "--json");
    assertThat(json.out()).contains("\"name\" : \"shop\"");
    assertThat(cli("certificates", "--due-within", "soon").rc()).isEqualTo(2);
  }

  @Test
  void publishOneRequestPrintsItsIdAndPutsItOnTheTopic() {
    Result r =
        cli(
            "publish",
            "--name",
            "shop",
            "--domains",
            "shop.example,www.shop.example",
            "--ca",
            "pebble",
            "--key-type",
            "ec-p384");
    assertThat(r.rc()).as(r.err()).isZero();
    String id = r.out().trim();
    List<RenewalRequested> published = requests();
    assertThat(published).hasSize(1);
    assertThat(published.get(0).getRequestId()).isEqualTo(id);
    assertThat(published.get(0).getDnsNames()).containsExactly("shop.example", "www.shop.example");
    assertThat(published.get(0).getKeyType().toString()).isEqualTo("EC_P384");
  }

  @Test
  void aBulkFileWithABadLinePublishesNothingUnlessAskedAndReportsTheLine() throws Exception {
    Path file = work.resolve("bulk.csv");
    StringBuilder csv = new StringBuilder("name,domains\n");
    for (int i = 0; i < 50; i++) {
      csv.append("c").append(i).append(",c").append(i).append(".example\n");
    }
    csv.append("bad,under_score.example\n");
    Files.writeString(file, csv);

    Result refused = cli("publish", "--file", file.toString());
    assertThat(refused.rc()).isEqualTo(1);
    assertThat(refused.err())
        .contains("line 52:")
        .contains("under_score.example")
        .contains("nothing published");
    assertThat(requests()).isEmpty();

    Result skipped = cli("publish", "--file", file.toString(), "--skip-invalid");
    assertThat(skipped.rc()).isZero();
    assertThat(skipped.out()).contains("published 50, rejected 1");
    assertThat(requests()).hasSize(50);
  }

  private void send(Object event) throws Exception {
    try (Publisher p = Publisher.create(stack.clientProps(), "it")) {
      if (event instanceof RenewalFailed f) {
        p.send(topics.renewalFailed, f.getRequestId(), f).get();
      } else if (event instanceof CertificateIssued c) {
        p.send(topics.certificateIssued, c.getRequestId(), c).get();
      } else if (event instanceof RenewalRequested r) {
        p.send(topics.renewalRequested, r.getRequestId(), r).get();
      } else if (event instanceof dev.renewal.events.OrderPlaced o) {
        p.send(topics.orderPlaced, o.getRequestId(), o).get();
      }
    }
  }

  private static RenewalFailed failure(
      String requestId, String name, boolean retryable, Instant at) {
    RenewalFailed f = SampleEvents.renewalFailed();
    RenewalRequested request =
        RenewalRequested.newBuilder(SampleEvents.request())
            .setRequestId(requestId)
            .setCertificateName(name)
            .setAttempt(1)
            .setReplayOf(null)
            .build();
    return RenewalFailed.newBuilder(f)
        .setEventId(UUID.randomUUID().toString())
        .setRequestId(requestId)
        .setRequest(request)
        .setRetryable(retryable)
        .setOccurredAt(at)
        .build();
  }

  @Test
  void statusShowsTheTimelineAndWhereARequestStands() throws Exception {
    String id = UUID.randomUUID().toString();
    send(
        RenewalRequested.newBuilder(SampleEvents.request())
            .setRequestId(id)
            .setOccurredAt(Instant.now().minusSeconds(5))
            .build());
    Result inFlight = cli("status", id);
    assertThat(inFlight.out()).contains("requested").contains("now: in flight");
    send(
        CertificateIssued.newBuilder(SampleEvents.certificateIssued())
            .setRequestId(id)
            .setOccurredAt(Instant.now())
            .build());
    Result issued = cli("status", id);
    assertThat(issued.out())
        .contains("certificate issued serial 0a1b2c")
        .contains("now: issued, serial 0a1b2c");
    assertThat(cli("status", "--summary").out()).contains("requests 1").contains("issued");
    send(failure(UUID.randomUUID().toString(), "broken", true, Instant.now()));
    assertThat(cli("status", "--failed", "--since", "1h").out())
        .contains("broken")
        .contains("AUTHORIZATION")
        .contains("(retryable)");
  }

  /**
   * {@code renewal status --follow} on a request in flight: the steps so far, then each one as it
   * is published, in order; exit 0 once issued, 1 once failed.
   */
  @Test
  void statusFollowPrintsEachStepAsItHappensAndExitsWithTheOutcome() throws Exception {
    String id = UUID.randomUUID().toString();
    send(
        RenewalRequested.newBuilder(SampleEvents.request())
            .setRequestId(id)
            .setOccurredAt(Instant.now().minusSeconds(2))
            .build());
    java.util.concurrent.CompletableFuture<Result> following =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> cli("status", "--follow", id, "--timeout", "60s"));
    Thread.sleep(2000);
    assertThat(following).isNotDone();
    send(
        dev.renewal.events.OrderPlaced.newBuilder(SampleEvents.orderPlaced())
            .setRequestId(id)
            .setOccurredAt(Instant.now())
            .build());
    Thread.sleep(1000);
    assertThat(following).as("in flight: still following").isNotDone();
    send(
        CertificateIssued.newBuilder(SampleEvents.certificateIssued())
            .setRequestId(id)
            .setOccurredAt(Instant.now())
            .build());
    Result issued = following.get(30, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(issued.rc()).as(issued.err()).isZero();
    List<String> lines = issued.out().lines().toList();
    assertThat(lines).hasSize(4);
    assertThat(lines.get(0)).matches(" +0\\.00s  requested .*");
    assertThat(lines.get(1)).contains("order placed");
    assertThat(lines.get(2)).contains("certificate issued serial 0a1b2c");
    assertThat(lines.get(3)).startsWith("now: issued, serial 0a1b2c");

    String failing = UUID.randomUUID().toString();
    RenewalFailed failure = failure(failing, "broken", true, Instant.now().plusSeconds(1));
    send(failure.getRequest());
    java.util.concurrent.CompletableFuture<Result> failingFollow =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> cli("status", "--follow", failing, "--timeout", "60s"));
    Thread.sleep(1500);
    send(failure);
    Result failed = failingFollow.get(30, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(failed.rc()).isEqualTo(1);
    assertThat(failed.out())
        .contains("renewal FAILED     at AUTHORIZATION")
        .contains("now: failed at AUTHORIZATION");
    // Already over: printed at once, with its exit code.
    assertThat(cli("status", "--follow", id).rc()).isZero();
    assertThat(cli("status", "--follow", failing).rc()).isEqualTo(1);
  }

  @Test
  void replaySelectsPublishesOnceAndSkipsWhatWasIssuedLater() throws Exception {
    String retry = UUID.randomUUID().toString();
    String done = UUID.randomUUID().toString();
    String terminal = UUID.randomUUID().toString();
    RenewalFailed retryFailure = failure(retry, "retry-me", true, Instant.now().minusSeconds(60));
    send(retryFailure);
    send(failure(done, "done-since", true, Instant.now().minusSeconds(60)));
    send(
        CertificateIssued.newBuilder(SampleEvents.certificateIssued())
            .setRequestId(done)
            .setOccurredAt(Instant.now())
            .build());
    send(failure(terminal, "needs-a-fix", false, Instant.now().minusSeconds(60)));

    Result dry = cli("replay", "--all-retryable", "--dry-run");
    assertThat(dry.out())
        .contains("would replay " + retry)
        .contains("skip    " + done)
        .contains("issued after this failure")
        .contains("would replay 1");
    assertThat(requests()).isEmpty();

    Result first = cli("replay", "--all-retryable");
    assertThat(first.out()).contains("replayed 1");
    List<RenewalRequested> replayed = requests();
    assertThat(replayed).hasSize(1);
    assertThat(replayed.get(0).getRequestId()).isEqualTo(retry);
    assertThat(replayed.get(0).getAttempt()).isEqualTo(2);
    assertThat(replayed.get(0).getReplayOf()).isEqualTo(retryFailure.getEventId());

    Result second = cli("replay", "--all-retryable");
    assertThat(second.out()).contains("already replayed").contains("replayed 0");
    assertThat(requests()).hasSize(1);

    Result byStage = cli("replay", "--stage", "authorization", "--name", "needs-a-fix");
    assertThat(byStage.out()).contains("replayed 1");
    assertThat(requests()).hasSize(2);
  }

  @Test
  void deadLettersAreListedWithTheirReasonAndReplayedToTheirSourceTopic() throws Exception {
    try (Publisher p = Publisher.create(stack.clientProps(), "it")) {
      var source =
          new org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>(
              topics.renewalRequested.name(), 1, 7L, "k".getBytes(), "garbage".getBytes());
      p.sendRaw(
              dev.renewal.topics.DeadLetter.of(
                  source,
                  topics.renewalRequestedDlq.name(),
                  "first byte is 0x67",
                  null,
                  "order-service"))
          .get();
    }
    Result list = cli("dlq", "list");
    assertThat(list.out())
        .contains(topics.renewalRequested.name() + "[1]@7")
        .contains("first byte is 0x67")
        .contains("1 dead letters");
    Result replay = cli("dlq", "replay", "--all");
    assertThat(replay.out()).contains("replayed 1");
    var back =
        new TopicReader(stack.clientProps())
            .readAll(
                new dev.renewal.topics.Topic<>(
                    topics.renewalRequested.name(),
                    org.apache.kafka.common.serialization.Serdes.ByteArray(),
                    org.apache.kafka.common.serialization.Serdes.ByteArray(),
                    3,
                    java.util.Map.of()),
                Duration.ofSeconds(10));
    assertThat(back).hasSize(1);
    assertThat(new String(back.get(0).value())).isEqualTo("garbage");
    assertThat(dev.renewal.topics.DeadLetter.header(back.get(0).headers(), "dlq.replayed-from"))
        .isNotNull();
  }
}
