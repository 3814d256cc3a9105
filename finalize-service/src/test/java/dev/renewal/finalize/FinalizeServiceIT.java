package dev.renewal.finalize;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.acme.AccountStore;
import dev.renewal.acme.AcmeSessions;
import dev.renewal.acme.CaCalls;
import dev.renewal.acme.CaProfiles;
import dev.renewal.acme.CaWorkers;
import dev.renewal.acme.PollPolicy;
import dev.renewal.challenge.ChallengeServiceApp;
import dev.renewal.config.Settings;
import dev.renewal.events.AuthorizationReconciled;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.Decision;
import dev.renewal.events.FinalizeRecord;
import dev.renewal.events.OrderReady;
import dev.renewal.finalize.acme.Acme4jFinalizeGateway;
import dev.renewal.finalize.handler.CertificateFiles;
import dev.renewal.finalize.handler.CertificateKeys;
import dev.renewal.finalize.handler.FinalizeHandler;
import dev.renewal.order.OrderServiceApp;
import dev.renewal.testkit.CrashBeforeSending;
import dev.renewal.testkit.StackFixture;
import dev.renewal.testkit.pebble.FaultyAcmeProxy;
import dev.renewal.topics.CompactedStore;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.Topic;
import dev.renewal.topics.TopicReader;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The three services end to end on the real broker, against Pebble through the quirk proxy. */
class FinalizeServiceIT {
  private static final Duration WAIT = Duration.ofSeconds(90);

  @RegisterExtension
  static final StackFixture fx =
      StackFixture.create().pebble("pebble", Map.of("PEBBLE_AUTHZREUSE", "0"));

  private Map<String, String> settings(FaultyAcmeProxy proxy) {
    Map<String, String> s = fx.settings(proxy.directoryUrl(), proxy.trustPem());
    s.put("ca.pebble.retry.budget", "20s");
    s.put("acme.key.dir", fx.dir().resolve("keys").toString());
    s.put("order.group.id", "order-" + fx.prefix());
    s.put("challenge.group.id", "challenge-" + fx.prefix());
    s.put("challenge.http01.host", "127.0.0.1");
    s.put("challenge.http01.port", String.valueOf(fx.httpPort("pebble")));
    s.put("finalize.application.id", "finalize-" + fx.prefix());
    s.put("finalize.group.id", "finalize-worker-" + fx.prefix());
    s.put("finalize.state.dir", fx.dir().resolve("state").toString());
    s.put("finalize.output.dir", fx.dir().resolve("certificates").toString());
    return s;
  }

  private FinalizeServiceApp finalizeService(Map<String, String> s) {
    FinalizeServiceApp app = fx.keep(FinalizeServiceApp.start(Settings.of(s)));
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!app.ready() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    return app;
  }

  private <V> List<ConsumerRecord<String, V>> await(Topic<String, V> topic, int count) {
    return new TopicReader(fx.stack().clientProps()).await(topic, r -> true, count, WAIT);
  }

  private static X509Certificate leaf(String pem) throws Exception {
    return (X509Certificate)
        CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
  }

  @Test
  void theSeedScenarioEndsInACertificateWithTheContradictionReconciled() throws Exception {
    FaultyAcmeProxy proxy =
        fx.keep(FaultyAcmeProxy.start(fx.pebble("pebble"), fx.dir().resolve("proxy")))
            .with(FaultyAcmeProxy.challengeTriggerAnswersInvalid());
    Map<String, String> s = settings(proxy);
    fx.keep(OrderServiceApp.start(Settings.of(s)));
    fx.keep(ChallengeServiceApp.start(Settings.of(s)));
    finalizeService(s);
    String id = fx.publish(ChallengeType.HTTP_01, "seed.example");

    CertificateIssued issued = await(fx.topics().certificateIssued, 1).get(0).value();
    assertThat(issued.getRequestId()).isEqualTo(id);
    assertThat(issued.getDnsNames()).containsExactly("seed.example");
    List<AuthorizationReconciled> reconciled =
        new TopicReader(fx.stack().clientProps())
            .readAll(fx.topics().authorizationReconciled, Duration.ofSeconds(10)).stream()
                .map(ConsumerRecord::value)
                .toList();
    assertThat(reconciled.stream().filter(AuthorizationReconciled::getContradiction)).hasSize(1);
    assertThat(reconciled.stream().filter(r -> r.getDecision() == Decision.VALID)).hasSize(1);
    assertThat(
            new TopicReader(fx.stack().clientProps())
                .readAll(fx.topics().renewalFailed, Duration.ofSeconds(5)))
        .isEmpty();

    // The chain verifies against Pebble's root, and the files are deployable.
    X509Certificate leaf = leaf(issued.getChainPem());
    assertThat(leaf.getSerialNumber().toString(16)).isEqualTo(issued.getSerialNumber());
    X509Certificate root = leaf(fx.pebble("pebble").issuingRootPem());
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
    Path folder = fx.dir().resolve("certificates").resolve(issued.getCertificateName());
    assertThat(Files.readString(folder.resolve("fullchain.pem"))).isEqualTo(issued.getChainPem());
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(folder.resolve("privkey.pem"))))
        .isEqualTo("rw-------");
    assertThat(issued.getKeyRef()).isNotNull();

    // No private key bytes on any topic.
    for (Topic<?, ?> topic : fx.topics().all()) {
      Topic<byte[], byte[]> raw =
          new Topic<>(topic.name(), Serdes.ByteArray(), Serdes.ByteArray(), 3, Map.of());
      for (ConsumerRecord<byte[], byte[]> r :
          new TopicReader(fx.stack().clientProps()).readAll(raw, Duration.ofSeconds(10))) {
        String text = r.value() == null ? "" : new String(r.value(), StandardCharsets.ISO_8859_1);
        assertThat(text).as(topic.name()).doesNotContain("PRIVATE KEY");
      }
    }
  }

  @Test
  void aServiceKilledAfterFinalizeAndBeforeTheAnnouncementAnnouncesTheSameCertificateOnRestart()
      throws Exception {
    FaultyAcmeProxy proxy =
        fx.keep(FaultyAcmeProxy.start(fx.pebble("pebble"), fx.dir().resolve("proxy")));
    Map<String, String> s = settings(proxy);
    fx.keep(OrderServiceApp.start(Settings.of(s)));
    fx.keep(ChallengeServiceApp.start(Settings.of(s)));
    Map<String, String> streamsOnly = new HashMap<>(s);
    streamsOnly.put("finalize.worker.enabled", "false");
    finalizeService(streamsOnly);
    fx.publish(ChallengeType.HTTP_01, "crash.example");
    OrderReady ready = await(fx.topics().orderReady, 1).get(0).value();

    // First life: finalizes, downloads, writes the files, and dies before announcing.
    Map<String, Object> props = new HashMap<>(fx.stack().clientProps());
    Publisher crashing =
        fx.keep(new Publisher(new CrashBeforeSending(props, fx.topics().certificateIssued.name())));
    CaWorkers caWorkers = fx.keep(CaWorkers.create(CaProfiles.from(Settings.of(s)), "first-life"));
    CompactedStore<FinalizeRecord> records =
        new CompactedStore<>(fx.topics().finalizeRecords, crashing, fx.stack().clientProps());
    dev.renewal.metrics.ServiceMetrics firstMetrics =
        new dev.renewal.metrics.ServiceMetrics("finalize-service");
    FinalizeHandler firstLife =
        new FinalizeHandler(
            CaProfiles.from(Settings.of(s)),
            new CaCalls(
                caWorkers.byProfile(), crashing, fx.topics(), Clock.systemUTC(), firstMetrics),
            new Acme4jFinalizeGateway(
                new AcmeSessions(), new AccountStore(fx.dir().resolve("keys"))),
            records,
            new CertificateKeys(fx.dir().resolve("keys").resolve("certificates")),
            new CertificateFiles(fx.dir().resolve("certificates")),
            crashing,
            fx.topics(),
            Clock.systemUTC(),
            caWorkers.scheduler(),
            new PollPolicy(Duration.ofMillis(50), Duration.ofSeconds(1)),
            firstMetrics);
    firstLife.handle(ready.getRequestId(), ready).get();
    Path cert =
        fx.dir()
            .resolve("certificates")
            .resolve(ready.getPlaced().getRequest().getCertificateName())
            .resolve("cert.pem");
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!Files.exists(cert) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    Thread.sleep(300);
    assertThat(proxy.finalizes()).isEqualTo(1);
    assertThat(
            new TopicReader(fx.stack().clientProps())
                .readAll(fx.topics().certificateIssued, Duration.ofSeconds(5)))
        .isEmpty();
    String firstSerial = leaf(Files.readString(cert)).getSerialNumber().toString(16);
    caWorkers.close();

    // Second life: the real worker resumes from the record.
    Map<String, String> workerOnly = new HashMap<>(s);
    workerOnly.put("finalize.application.id", "finalize-second-" + fx.prefix());
    FinalizeServiceApp second = finalizeService(workerOnly);
    CertificateIssued issued = await(fx.topics().certificateIssued, 1).get(0).value();
    assertThat(issued.getSerialNumber()).isEqualTo(firstSerial);
    assertThat(proxy.finalizes()).as("Pebble was asked to finalize once").isEqualTo(1);
    assertThat(second.metrics().get("orders.resumed")).isEqualTo(1);
    assertThat(second.metrics().get("orders.finalized")).isZero();
  }
}
