package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.acme.AccountStore;
import dev.renewal.acme.AcmeSessions;
import dev.renewal.acme.CaProfiles;
import dev.renewal.challenge.ChallengeServiceApp;
import dev.renewal.config.Settings;
import dev.renewal.events.AuthorizationObserved;
import dev.renewal.events.AuthorizationReconciled;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.ChallengeObserved;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.ObservationSource;
import dev.renewal.events.OrderReady;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.Stage;
import dev.renewal.finalize.FinalizeServiceApp;
import dev.renewal.infra.EmbeddedStack;
import dev.renewal.infra.kafka.EmbeddedKafka;
import dev.renewal.infra.pebble.FaultyAcmeProxy;
import dev.renewal.infra.pebble.PebbleServer;
import dev.renewal.order.OrderServiceApp;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.Topic;
import dev.renewal.topics.TopicReader;
import dev.renewal.topics.TopicSettings;
import dev.renewal.topics.Topics;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.util.KeyPairUtils;

/**
 * Every case of ACME-QUIRKS.md end to end: the real broker and registry, the three services, and
 * Pebble with real validation, behind {@link FaultyAcmeProxy} where Pebble itself behaves.
 */
class AcmeQuirksIT {
  private static final Duration WAIT = Duration.ofSeconds(120);

  @TempDir static Path work;
  static EmbeddedStack stack;
  static PebbleServer pebble;
  static PebbleServer chaos;
  static int httpPort;
  static int chaosHttpPort;

  String prefix;
  Topics topics;
  Path dir;
  final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    stack =
        EmbeddedStack.start(
            work.resolve("stack"), 0, 0, new TopicSettings("", 3, (short) 1, 3_600_000));
    httpPort = EmbeddedKafka.freePort();
    pebble =
        PebbleServer.start(
            PebbleServer.Options.defaults(work.resolve("pebble"), httpPort)
                .withEnvironment(Map.of("PEBBLE_AUTHZREUSE", "0")));
    chaosHttpPort = EmbeddedKafka.freePort();
    chaos =
        PebbleServer.start(
            PebbleServer.Options.defaults(work.resolve("chaos"), chaosHttpPort)
                .withEnvironment(
                    Map.of("PEBBLE_WFE_NONCEREJECT", "30", "PEBBLE_AUTHZREUSE", "100")));
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable c : new AutoCloseable[] {chaos, pebble, stack}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // best effort
      }
    }
  }

  @BeforeEach
  void topics(TestInfo info) throws Exception {
    prefix = info.getTestMethod().orElseThrow().getName() + ".";
    // A namespace of this test's own on the class's broker (EmbeddedStack.topics: same
    // partitions, replication and retention as the stack's, every topic created).
    topics = stack.topics(prefix);
    dir = work.resolve(prefix);
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
    closeables.clear();
  }

  private <T extends AutoCloseable> T keep(T c) {
    closeables.add(c);
    return c;
  }

  private Map<String, String> settings(URI directory, Path trust, int port) {
    Map<String, String> s = new HashMap<>();
    s.put("kafka.bootstrap.servers", stack.bootstrapServers());
    s.put("registry.url", stack.registryUrl().toString());
    s.put("topics.prefix", prefix);
    s.put("ca.profiles", "pebble");
    s.put("ca.pebble.directory.url", directory.toString());
    s.put("ca.pebble.trust.pem", trust.toString());
    s.put("ca.pebble.terms.agreed", "true");
    s.put("ca.pebble.max.in.flight", "6");
    s.put("ca.pebble.retry.budget", "60s");
    s.put("acme.key.dir", dir.resolve("keys").toString());
    s.put("order.group.id", "order-" + prefix);
    s.put("challenge.group.id", "challenge-" + prefix);
    s.put("challenge.http01.host", "127.0.0.1");
    s.put("challenge.http01.port", String.valueOf(port));
    s.put("challenge.dns.provider", "challtestsrv");
    s.put("finalize.application.id", "finalize-" + prefix);
    s.put("finalize.group.id", "finalize-worker-" + prefix);
    s.put("finalize.state.dir", dir.resolve("state").toString());
    s.put("finalize.output.dir", dir.resolve("certificates").toString());
    return s;
  }

  private Map<String, String> settings(PebbleServer ca, FaultyAcmeProxy proxy) {
    Map<String, String> s =
        proxy == null
            ? settings(ca.directoryUrl(), ca.trustPem(), ca == chaos ? chaosHttpPort : httpPort)
            : settings(
                proxy.directoryUrl(), proxy.trustPem(), ca == chaos ? chaosHttpPort : httpPort);
    s.put("challenge.dns.challtestsrv.url", ca.challtestsrvUrl().toString());
    s.put("challenge.dns.resolver", ca.dnsServer());
    return s;
  }

  private OrderServiceApp orders;
  private ChallengeServiceApp challenges;

  private FinalizeServiceApp pipeline(Map<String, String> s) {
    orders = keep(OrderServiceApp.start(Settings.of(s)));
    challenges = keep(ChallengeServiceApp.start(Settings.of(s)));
    FinalizeServiceApp f = keep(FinalizeServiceApp.start(Settings.of(s)));
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!f.ready() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    return f;
  }

  private String publish(ChallengeType type, String... names) throws Exception {
    String id = UUID.randomUUID().toString();
    keep(Publisher.create(stack.clientProps(), "it"))
        .send(
            topics.renewalRequested,
            id,
            RenewalRequested.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setRequestId(id)
                .setOccurredAt(Instant.now())
                .setCertificateName("c-" + id.substring(0, 8))
                .setDnsNames(List.of(names))
                .setChallengeType(type)
                .setCaProfile("pebble")
                .build())
        .get();
    return id;
  }

  private <V> List<ConsumerRecord<String, V>> await(Topic<String, V> topic, int count) {
    return new TopicReader(stack.clientProps()).await(topic, r -> true, count, WAIT);
  }

  private <V> List<V> all(Topic<String, V> topic) {
    return new TopicReader(stack.clientProps())
        .readAll(topic, Duration.ofSeconds(10)).stream().map(ConsumerRecord::value).toList();
  }

  /** Waits until the Prometheus endpoint at {@code uri} shows {@code line}; returns the scrape. */
  private static String scrapeShows(java.net.URI uri, String line) throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    String text;
    do {
      text =
          http.send(
                  java.net.http.HttpRequest.newBuilder(uri).build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString())
              .body();
      if (text.lines().anyMatch(l -> l.equals(line))) {
        return text;
      }
      Thread.sleep(50);
    } while (System.nanoTime() < deadline);
    throw new AssertionError("no line '" + line + "' at " + uri + " in:\n" + text);
  }

  private static List<X509Certificate> chain(String pem) throws Exception {
    List<X509Certificate> out = new ArrayList<>();
    for (var c :
        CertificateFactory.getInstance("X.509")
            .generateCertificates(
                new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
      out.add((X509Certificate) c);
    }
    return out;
  }

  private static void verifiesToTheRoot(CertificateIssued issued, PebbleServer ca)
      throws Exception {
    List<X509Certificate> chain = chain(issued.getChainPem());
    X509Certificate root = chain(ca.issuingRootPem()).get(0);
    for (int i = 0; i < chain.size() - 1; i++) {
      chain.get(i).verify(chain.get(i + 1).getPublicKey());
    }
    chain.get(chain.size() - 1).verify(root.getPublicKey());
  }

  @Test
  void happyPathSeveralRequestsWithSeveralNamesOverHttp01AndDns01AreAllIssued() throws Exception {
    FinalizeServiceApp finalize = pipeline(settings(pebble, null));
    publish(ChallengeType.HTTP_01, "a1.happy.example", "a2.happy.example");
    publish(ChallengeType.HTTP_01, "b1.happy.example", "b2.happy.example", "b3.happy.example");
    publish(ChallengeType.DNS_01, "*.dns.happy.example", "c1.happy.example");

    List<ConsumerRecord<String, CertificateIssued>> issued = await(topics.certificateIssued, 3);
    assertThat(issued).hasSize(3);
    for (ConsumerRecord<String, CertificateIssued> r : issued) {
      verifiesToTheRoot(r.value(), pebble);
      X509Certificate leaf = chain(r.value().getChainPem()).get(0);
      List<String> sans = new ArrayList<>();
      leaf.getSubjectAlternativeNames().forEach(san -> sans.add(String.valueOf(san.get(1))));
      assertThat(sans).containsExactlyInAnyOrderElementsOf(r.value().getDnsNames());
    }
    assertThat(issued)
        .extracting(r -> r.value().getDnsNames().size())
        .containsExactlyInAnyOrder(2, 3, 2);
    assertThat(all(topics.renewalFailed)).isEmpty();

    // What each service's Prometheus endpoint says about the same three renewals.
    scrapeShows(
        orders.metricsUri().orElseThrow(),
        "renewal_orders_placed_total{service=\"order-service\"} 3.0");
    scrapeShows(
        orders.metricsUri().orElseThrow(),
        "renewal_stage_latency_seconds_count{service=\"order-service\",stage=\"order\"} 3");
    scrapeShows(
        challenges.metricsUri().orElseThrow(),
        "renewal_authorizations_observed_total{service=\"challenge-service\",status=\"valid\"} 7.0");
    String fin =
        scrapeShows(
            finalize.metricsUri().orElseThrow(),
            "renewal_certificates_issued_total{service=\"finalize-service\"} 3.0");
    assertThat(fin)
        .contains(
            "renewal_stage_latency_seconds_count{service=\"finalize-service\",stage=\"end_to_end\"} 3")
        .contains(
            "renewal_authorizations_reconciled_total{decision=\"valid\",service=\"finalize-service\"} 7.0")
        .contains("renewal_in_flight{service=\"finalize-service\",what=\"orders\"} 0.0");
    assertThat(fin).doesNotContain("renewal_failures_total");
  }

  @Test
  void case1ChallengeAnsweredInvalidWhileTheCaGoesOnValidatingIsIssuedWithTheContradictionRecorded()
      throws Exception {
    FaultyAcmeProxy proxy =
        keep(FaultyAcmeProxy.start(pebble, dir.resolve("proxy")))
            .with(FaultyAcmeProxy.challengeTriggerAnswersInvalid());
    FinalizeServiceApp finalize = pipeline(settings(pebble, proxy));
    publish(ChallengeType.HTTP_01, "case1.example");
    assertThat(await(topics.certificateIssued, 1)).hasSize(1);
    assertThat(
            all(topics.authorizationReconciled).stream()
                .filter(AuthorizationReconciled::getContradiction))
        .hasSize(1);
    scrapeShows(
        finalize.metricsUri().orElseThrow(),
        "renewal_contradictions_reconciled_total{service=\"finalize-service\"} 1.0");
  }

  @Test
  void case2ChallengeProcessingWithAnErrorAndRetryAfterIsPolledUntilValid() throws Exception {
    FaultyAcmeProxy proxy =
        keep(FaultyAcmeProxy.start(pebble, dir.resolve("proxy")))
            .replace(FaultyAcmeProxy.challengeProcessingFor(Duration.ofSeconds(4)));
    pipeline(settings(pebble, proxy));
    publish(ChallengeType.HTTP_01, "case2.example");
    CertificateIssued issued = await(topics.certificateIssued, 1).get(0).value();
    List<ChallengeObserved> challenges = all(topics.challengeObserved);
    assertThat(challenges)
        .extracting(c -> c.getStatus().toString())
        .contains("PROCESSING", "VALID");
    assertThat(challenges.stream().filter(c -> c.getProblem() != null)).isNotEmpty();
    assertThat(issued.getDnsNames()).containsExactly("case2.example");
  }

  @Test
  void case3OrderProcessingForLongAfterFinalizeWaitsDurablyAcrossARestartAndIsIssued()
      throws Exception {
    FaultyAcmeProxy proxy =
        keep(FaultyAcmeProxy.start(pebble, dir.resolve("proxy")))
            .replace(FaultyAcmeProxy.orderProcessingFor(Duration.ofSeconds(8)));
    Map<String, String> s = settings(pebble, proxy);
    keep(OrderServiceApp.start(Settings.of(s)));
    keep(ChallengeServiceApp.start(Settings.of(s)));
    FinalizeServiceApp first = FinalizeServiceApp.start(Settings.of(s));
    publish(ChallengeType.HTTP_01, "case3.example");
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (proxy.finalizes() < 1 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    Thread.sleep(1500);
    first.close(); // restart in the middle of the long processing
    FinalizeServiceApp second = keep(FinalizeServiceApp.start(Settings.of(s)));
    CertificateIssued issued = await(topics.certificateIssued, 1).get(0).value();
    assertThat(issued.getDnsNames()).containsExactly("case3.example");
    assertThat(proxy.finalizes()).isEqualTo(1);
    assertThat(second.handler().counter("orders.resumed")).isEqualTo(1);
  }

  @Test
  void case4FinalizeAnsweredOrderNotReadyIsPolledAndFinalizedAgain() throws Exception {
    FaultyAcmeProxy proxy =
        keep(FaultyAcmeProxy.start(pebble, dir.resolve("proxy")))
            .intercept(FaultyAcmeProxy.finalizeAnswersOrderNotReadyOnce());
    FinalizeServiceApp f = pipeline(settings(pebble, proxy));
    publish(ChallengeType.HTTP_01, "case4.example");
    assertThat(await(topics.certificateIssued, 1)).hasSize(1);
    assertThat(proxy.finalizes()).as("the second finalize, accepted by Pebble").isEqualTo(1);
    assertThat(f.handler().counter("finalize.order.not.ready")).isEqualTo(1);
  }

  @Test
  void case5AnOrderAlreadyValidIsDownloadedWithoutASecondFinalize() throws Exception {
    FaultyAcmeProxy proxy = keep(FaultyAcmeProxy.start(pebble, dir.resolve("proxy")));
    Map<String, String> s = settings(pebble, proxy);
    Map<String, String> streamsOnly = new HashMap<>(s);
    streamsOnly.put("finalize.worker.enabled", "false");
    keep(OrderServiceApp.start(Settings.of(s)));
    keep(ChallengeServiceApp.start(Settings.of(s)));
    keep(FinalizeServiceApp.start(Settings.of(streamsOnly)));
    publish(ChallengeType.HTTP_01, "case5.example");
    OrderReady ready = await(topics.orderReady, 1).get(0).value();
    // Someone (a retry after a crash, another client on the same account) finalizes first.
    var profile = CaProfiles.from(Settings.of(s)).get("pebble").orElseThrow();
    Order order =
        new AccountStore(dir.resolve("keys"))
            .existingLogin(profile, new AcmeSessions().session(profile))
            .bindOrder(URI.create(ready.getPlaced().getOrderUrl()).toURL());
    order.execute(KeyPairUtils.createKeyPair(2048));
    long deadline = System.nanoTime() + WAIT.toNanos();
    do {
      Thread.sleep(100);
      order.fetch();
    } while (order.getStatus() != org.shredzone.acme4j.Status.VALID
        && System.nanoTime() < deadline);
    order.getCertificate().download();
    String serial = order.getCertificate().getCertificate().getSerialNumber().toString(16);

    Map<String, String> workerOnly = new HashMap<>(s);
    workerOnly.put("finalize.application.id", "finalize-worker-only-" + prefix);
    keep(FinalizeServiceApp.start(Settings.of(workerOnly)));
    CertificateIssued issued = await(topics.certificateIssued, 1).get(0).value();
    assertThat(issued.getSerialNumber()).isEqualTo(serial);
    assertThat(proxy.finalizes()).as("only the other client's finalize").isEqualTo(1);
  }

  @Test
  void case6And8NonceRejectionsAreRetriedAndReusedAuthorizationsAreNotSolvedAgain()
      throws Exception {
    pipeline(settings(chaos, null));
    publish(ChallengeType.HTTP_01, "reuse.example", "nonce1.example");
    assertThat(await(topics.certificateIssued, 1)).hasSize(1);
    long triggersBefore =
        all(topics.challengeObserved).stream()
            .filter(c -> c.getSource() == ObservationSource.TRIGGER_RESPONSE)
            .count();
    publish(ChallengeType.HTTP_01, "reuse.example", "nonce1.example");
    assertThat(await(topics.certificateIssued, 2)).hasSize(2);
    List<AuthorizationObserved> observed = all(topics.authorizationObserved);
    assertThat(observed.stream().filter(AuthorizationObserved::getReused))
        .as("PEBBLE_AUTHZREUSE=100")
        .isNotEmpty();
    long triggersAfter =
        all(topics.challengeObserved).stream()
            .filter(c -> c.getSource() == ObservationSource.TRIGGER_RESPONSE)
            .count();
    assertThat(triggersAfter)
        .as("nothing solved for the reused authorizations")
        .isEqualTo(triggersBefore);
    assertThat(all(topics.renewalFailed)).as("30 % of nonces rejected, nothing failed").isEmpty();
  }

  @Test
  void case7RateLimitedWithRetryAfterInSecondsAndAsAnHttpDateWaitsAsToldThenSucceeds()
      throws Exception {
    FaultyAcmeProxy proxy =
        keep(FaultyAcmeProxy.start(pebble, dir.resolve("proxy")))
            .intercept(FaultyAcmeProxy.rateLimitNewOrders(1, () -> "2"))
            .intercept(
                FaultyAcmeProxy.rateLimitNewOrders(
                    1,
                    () ->
                        DateTimeFormatter.RFC_1123_DATE_TIME.format(
                            Instant.now().plusSeconds(3).atOffset(ZoneOffset.UTC))));
    pipeline(settings(pebble, proxy));
    long started = System.nanoTime();
    publish(ChallengeType.HTTP_01, "case7.example");
    assertThat(await(topics.certificateIssued, 1)).hasSize(1);
    assertThat(Duration.ofNanos(System.nanoTime() - started))
        .as("waited 2 s, then until the HTTP-date")
        .isGreaterThan(Duration.ofSeconds(4));
  }

  @Test
  void case9AChallengeThatReallyFailsEndsInRenewalFailedWithTheCasProblem() throws Exception {
    // The name resolves to an address nothing listens on: Pebble's validation really fails.
    pebble.challtestsrv("/add-a", "{\"host\":\"case9.example.\",\"addresses\":[\"127.0.0.2\"]}");
    pipeline(settings(pebble, null));
    String id = publish(ChallengeType.HTTP_01, "case9.example");
    RenewalFailed failed = await(topics.renewalFailed, 1).get(0).value();
    assertThat(failed.getRequestId()).isEqualTo(id);
    assertThat(failed.getStage()).isEqualTo(Stage.AUTHORIZATION);
    assertThat(failed.getProblem().getType()).startsWith("urn:ietf:params:acme:error:");
    assertThat(failed.getRequest().getDnsNames()).containsExactly("case9.example");
    assertThat(all(topics.certificateIssued)).isEmpty();
  }

  @Test
  void oneHundredRequestsAtOnceAreAllIssued() throws Exception {
    // A Pebble of its own and two CA calls at once per service: Pebble 2.4.0's store deadlocks
    // when new orders race (docs/benchmarks.md, "Pebble's deadlock"; it did here once at six), and
    // the shared Pebble holds the other tests' authorizations, scanned on every new order.
    int port = EmbeddedKafka.freePort();
    PebbleServer own =
        keep(
            PebbleServer.start(
                PebbleServer.Options.defaults(dir.resolve("pebble"), port)
                    .withEnvironment(Map.of("PEBBLE_AUTHZREUSE", "0"))));
    Map<String, String> s = settings(own.directoryUrl(), own.trustPem(), port);
    s.put("challenge.dns.challtestsrv.url", own.challtestsrvUrl().toString());
    s.put("challenge.dns.resolver", own.dnsServer());
    s.put("ca.pebble.max.in.flight", "2");
    pipeline(s);
    Publisher publisher = keep(Publisher.create(stack.clientProps(), "bulk"));
    for (int i = 0; i < 100; i++) {
      String id = UUID.randomUUID().toString();
      publisher.send(
          topics.renewalRequested,
          id,
          RenewalRequested.newBuilder()
              .setEventId(UUID.randomUUID().toString())
              .setRequestId(id)
              .setOccurredAt(Instant.now())
              .setCertificateName("bulk-" + i)
              .setDnsNames(List.of("bulk" + i + ".example"))
              .setCaProfile("pebble")
              .build());
    }
    publisher.flush();
    long started = System.nanoTime();
    assertThat(await(topics.certificateIssued, 100)).hasSize(100);
    System.out.printf("100 certificates in %.1f s%n", (System.nanoTime() - started) / 1e9);
    assertThat(all(topics.renewalFailed)).isEmpty();

    // The materialized view (renewal.status) has caught up: status --summary reads it.
    String summary = "";
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!summary.contains("issued                                   100")
        && System.nanoTime() < deadline) {
      summary = ops("status", "--summary");
      Thread.sleep(200);
    }
    assertThat(summary)
        .contains("requests 100 (from the view " + prefix + "renewal.status)")
        .contains("issued                                   100")
        .doesNotContain("in flight");
  }

  /** Runs a `renewal` operator command against this test's stack and topics; its output. */
  private String ops(String... command) {
    List<String> args = new ArrayList<>(List.of(command));
    args.addAll(
        List.of(
            "--set",
            "kafka.bootstrap.servers=" + stack.bootstrapServers(),
            "--set",
            "registry.url=" + stack.registryUrl(),
            "--set",
            "topics.prefix=" + prefix));
    java.io.StringWriter out = new java.io.StringWriter();
    var cli = RenewalCli.commandLine();
    cli.setOut(new java.io.PrintWriter(out));
    assertThat(cli.execute(args.toArray(String[]::new))).isZero();
    return out.toString();
  }

  @Test
  void aFailedRenewalIsFixedThenReplayedFromTheLogAndIssuedAsAttemptTwo() throws Exception {
    pebble.challtestsrv("/add-a", "{\"host\":\"replay.example.\",\"addresses\":[\"127.0.0.2\"]}");
    Map<String, String> s = settings(pebble, null);
    pipeline(s);
    String id = publish(ChallengeType.HTTP_01, "replay.example");
    RenewalFailed failed = await(topics.renewalFailed, 1).get(0).value();
    assertThat(failed.getRequestId()).isEqualTo(id);

    // The operator fixes DNS, then replays from the log.
    pebble.challtestsrv("/clear-a", "{\"host\":\"replay.example.\"}");
    assertThat(ops("replay", "--request-id", id)).contains("replayed 1");

    CertificateIssued issued = await(topics.certificateIssued, 1).get(0).value();
    assertThat(issued.getRequestId()).isEqualTo(id);
    assertThat(issued.getAttempt()).isEqualTo(2);
    assertThat(issued.getDnsNames()).containsExactly("replay.example");
  }
}
