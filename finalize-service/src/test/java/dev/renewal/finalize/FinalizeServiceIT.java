package dev.renewal.finalize;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.acme.AccountStore;
import dev.renewal.acme.Acme4jPacers;
import dev.renewal.acme.AcmeSessions;
import dev.renewal.acme.CaProfiles;
import dev.renewal.acme.PollPolicy;
import dev.renewal.challenge.ChallengeServiceApp;
import dev.renewal.config.Settings;
import dev.renewal.events.AuthorizationReconciled;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.Decision;
import dev.renewal.events.FinalizeRecord;
import dev.renewal.events.OrderReady;
import dev.renewal.events.RenewalRequested;
import dev.renewal.finalize.acme.Acme4jFinalizeGateway;
import dev.renewal.finalize.handler.CertificateFiles;
import dev.renewal.finalize.handler.CertificateKeys;
import dev.renewal.finalize.handler.FinalizeHandler;
import dev.renewal.infra.EmbeddedStack;
import dev.renewal.infra.kafka.EmbeddedKafka;
import dev.renewal.infra.pebble.FaultyAcmeProxy;
import dev.renewal.infra.pebble.PebbleServer;
import dev.renewal.order.OrderServiceApp;
import dev.renewal.topics.CompactedStore;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.Topic;
import dev.renewal.topics.TopicReader;
import dev.renewal.topics.TopicSettings;
import dev.renewal.topics.Topics;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/** The three services end to end on the real broker, against Pebble through the quirk proxy. */
class FinalizeServiceIT {
  private static final Duration WAIT = Duration.ofSeconds(90);

  @TempDir static Path work;
  static EmbeddedStack stack;
  static PebbleServer pebble;
  static int httpPort;

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
  }

  @AfterAll
  static void stop() {
    if (pebble != null) {
      pebble.close();
    }
    if (stack != null) {
      stack.close();
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

  private Map<String, String> settings(FaultyAcmeProxy proxy) {
    Map<String, String> s = new HashMap<>();
    s.put("kafka.bootstrap.servers", stack.bootstrapServers());
    s.put("registry.url", stack.registryUrl().toString());
    s.put("topics.prefix", prefix);
    s.put("ca.profiles", "pebble");
    s.put("ca.pebble.directory.url", proxy.directoryUrl().toString());
    s.put("ca.pebble.trust.pem", proxy.trustPem().toString());
    s.put("ca.pebble.terms.agreed", "true");
    s.put("ca.pebble.retry.budget", "20s");
    s.put("acme.key.dir", dir.resolve("keys").toString());
    s.put("order.group.id", "order-" + prefix);
    s.put("challenge.group.id", "challenge-" + prefix);
    s.put("challenge.http01.host", "127.0.0.1");
    s.put("challenge.http01.port", String.valueOf(httpPort));
    s.put("finalize.application.id", "finalize-" + prefix);
    s.put("finalize.group.id", "finalize-worker-" + prefix);
    s.put("finalize.state.dir", dir.resolve("state").toString());
    s.put("finalize.output.dir", dir.resolve("certificates").toString());
    return s;
  }

  private FinalizeServiceApp finalizeService(Map<String, String> s) {
    FinalizeServiceApp app = keep(FinalizeServiceApp.start(Settings.of(s)));
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!app.ready() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    return app;
  }

  private String publish(String... names) throws Exception {
    String id = UUID.randomUUID().toString();
    keep(Publisher.create(stack.clientProps(), "it"))
        .send(
            topics.renewalRequested,
            id,
            RenewalRequested.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setRequestId(id)
                .setOccurredAt(Instant.now())
                .setCertificateName("cert-" + id.substring(0, 8))
                .setDnsNames(List.of(names))
                .setChallengeType(ChallengeType.HTTP_01)
                .setCaProfile("pebble")
                .build())
        .get();
    return id;
  }

  private <V> List<ConsumerRecord<String, V>> await(Topic<String, V> topic, int count) {
    return new TopicReader(stack.clientProps()).await(topic, r -> true, count, WAIT);
  }

  private static X509Certificate leaf(String pem) throws Exception {
    return (X509Certificate)
        CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
  }

  @Test
  void theSeedScenarioEndsInACertificateWithTheContradictionReconciled() throws Exception {
    FaultyAcmeProxy proxy =
        keep(FaultyAcmeProxy.start(pebble, dir.resolve("proxy")))
            .with(FaultyAcmeProxy.challengeTriggerAnswersInvalid());
    Map<String, String> s = settings(proxy);
    keep(OrderServiceApp.start(Settings.of(s)));
    keep(ChallengeServiceApp.start(Settings.of(s)));
    finalizeService(s);
    String id = publish("seed.example");

    CertificateIssued issued = await(topics.certificateIssued, 1).get(0).value();
    assertThat(issued.getRequestId()).isEqualTo(id);
    assertThat(issued.getDnsNames()).containsExactly("seed.example");
    List<AuthorizationReconciled> reconciled =
        new TopicReader(stack.clientProps())
            .readAll(topics.authorizationReconciled, Duration.ofSeconds(10)).stream()
                .map(ConsumerRecord::value)
                .toList();
    assertThat(reconciled.stream().filter(AuthorizationReconciled::getContradiction)).hasSize(1);
    assertThat(reconciled.stream().filter(r -> r.getDecision() == Decision.VALID)).hasSize(1);
    assertThat(
            new TopicReader(stack.clientProps())
                .readAll(topics.renewalFailed, Duration.ofSeconds(5)))
        .isEmpty();

    // The chain verifies against Pebble's root, and the files are deployable.
    X509Certificate leaf = leaf(issued.getChainPem());
    assertThat(leaf.getSerialNumber().toString(16)).isEqualTo(issued.getSerialNumber());
    X509Certificate root = leaf(pebble.issuingRootPem());
    List<X509Certificate> chain = new ArrayList<>();
    for (var c :
        CertificateFactory.getInstance("X.509")
            .generateCertificates(
                new ByteArrayInputStream(
                    issued.getChainPem().getBytes(StandardCharsets.US_ASCII)))) {
      chain.add((X509Certificate) c);
    }
    chain.get(chain.size() - 1).verify(root.getPublicKey());
    for (int i = 0; i < chain.size() - 1; i++) {
      chain.get(i).verify(chain.get(i + 1).getPublicKey());
    }
    Path folder = dir.resolve("certificates").resolve(issued.getCertificateName());
    assertThat(Files.readString(folder.resolve("fullchain.pem"))).isEqualTo(issued.getChainPem());
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(folder.resolve("privkey.pem"))))
        .isEqualTo("rw-------");
    assertThat(issued.getKeyRef()).isNotNull();

    // No private key bytes on any topic.
    for (Topic<?, ?> topic : topics.all()) {
      Topic<byte[], byte[]> raw =
          new Topic<>(topic.name(), Serdes.ByteArray(), Serdes.ByteArray(), 3, Map.of());
      for (ConsumerRecord<byte[], byte[]> r :
          new TopicReader(stack.clientProps()).readAll(raw, Duration.ofSeconds(10))) {
        String text = r.value() == null ? "" : new String(r.value(), StandardCharsets.ISO_8859_1);
        assertThat(text).as(topic.name()).doesNotContain("PRIVATE KEY");
      }
    }
  }

  /** A producer that dies (throws) when asked to announce a certificate. */
  static final class CrashBeforeAnnounce extends KafkaProducer<byte[], byte[]> {
    private final String crashTopic;

    CrashBeforeAnnounce(Map<String, Object> props, String crashTopic) {
      super(props, new ByteArraySerializer(), new ByteArraySerializer());
      this.crashTopic = crashTopic;
    }

    @Override
    public Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
      if (record.topic().equals(crashTopic)) {
        throw new IllegalStateException("simulated crash before CertificateIssued");
      }
      return super.send(record, callback);
    }
  }

  @Test
  void aServiceKilledAfterFinalizeAndBeforeTheAnnouncementAnnouncesTheSameCertificateOnRestart()
      throws Exception {
    FaultyAcmeProxy proxy = keep(FaultyAcmeProxy.start(pebble, dir.resolve("proxy")));
    Map<String, String> s = settings(proxy);
    keep(OrderServiceApp.start(Settings.of(s)));
    keep(ChallengeServiceApp.start(Settings.of(s)));
    Map<String, String> streamsOnly = new HashMap<>(s);
    streamsOnly.put("finalize.worker.enabled", "false");
    finalizeService(streamsOnly);
    publish("crash.example");
    OrderReady ready = await(topics.orderReady, 1).get(0).value();

    // First life: finalizes, downloads, writes the files, and dies before announcing.
    Map<String, Object> props = new HashMap<>(stack.clientProps());
    Publisher crashing =
        keep(new Publisher(new CrashBeforeAnnounce(props, topics.certificateIssued.name())));
    Acme4jPacers pacers = keep(Acme4jPacers.create(CaProfiles.from(Settings.of(s)), "first-life"));
    CompactedStore<FinalizeRecord> records =
        new CompactedStore<>(topics.finalizeRecords, crashing, stack.clientProps());
    FinalizeHandler firstLife =
        new FinalizeHandler(
            CaProfiles.from(Settings.of(s)),
            pacers.byProfile(),
            new Acme4jFinalizeGateway(new AcmeSessions(), new AccountStore(dir.resolve("keys"))),
            records,
            new CertificateKeys(dir.resolve("keys").resolve("certificates")),
            new CertificateFiles(dir.resolve("certificates")),
            crashing,
            topics,
            Clock.systemUTC(),
            new PollPolicy(Duration.ofMillis(50), Duration.ofSeconds(1)),
            new dev.renewal.metrics.ServiceMetrics("finalize-service"));
    firstLife.handle(ready.getRequestId(), ready).get();
    Path cert =
        dir.resolve("certificates")
            .resolve(ready.getPlaced().getRequest().getCertificateName())
            .resolve("cert.pem");
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!Files.exists(cert) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    Thread.sleep(300);
    assertThat(proxy.finalizes()).isEqualTo(1);
    assertThat(
            new TopicReader(stack.clientProps())
                .readAll(topics.certificateIssued, Duration.ofSeconds(5)))
        .isEmpty();
    String firstSerial = leaf(Files.readString(cert)).getSerialNumber().toString(16);
    pacers.close();

    // Second life: the real worker resumes from the record.
    Map<String, String> workerOnly = new HashMap<>(s);
    workerOnly.put("finalize.application.id", "finalize-second-" + prefix);
    FinalizeServiceApp second = finalizeService(workerOnly);
    CertificateIssued issued = await(topics.certificateIssued, 1).get(0).value();
    assertThat(issued.getSerialNumber()).isEqualTo(firstSerial);
    assertThat(proxy.finalizes()).as("Pebble was asked to finalize once").isEqualTo(1);
    assertThat(second.handler().counter("orders.resumed")).isEqualTo(1);
    assertThat(second.handler().counter("orders.finalized")).isZero();
  }
}
