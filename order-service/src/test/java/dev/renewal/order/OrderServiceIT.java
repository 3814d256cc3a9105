package dev.renewal.order;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.renewal.acme.AccountStore;
import dev.renewal.acme.AcmeSessions;
import dev.renewal.acme.CaCalls;
import dev.renewal.acme.CaProfile;
import dev.renewal.acme.CaProfiles;
import dev.renewal.acme.Pacer;
import dev.renewal.config.Settings;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.OrderRecord;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.Stage;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.order.acme.Acme4jOrderGateway;
import dev.renewal.order.handler.RequestHandler;
import dev.renewal.testkit.CrashBeforeSending;
import dev.renewal.testkit.StackFixture;
import dev.renewal.testkit.pebble.FaultyAcmeProxy;
import dev.renewal.testkit.pebble.PebbleServer;
import dev.renewal.topics.CompactedStore;
import dev.renewal.topics.DeadLetter;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.Topic;
import dev.renewal.topics.TopicReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Order;
import org.slf4j.LoggerFactory;

/** order-service on the real broker and registry, against Pebble from Debian's package. */
class OrderServiceIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  /** The MAC key Pebble holds for key id {@link #EAB_KID} (base64url, as Pebble's test config). */
  static final String EAB_KID = "kid-1";

  static final String EAB_KEY = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";

  @RegisterExtension
  static final StackFixture fx =
      StackFixture.create()
          .pebble("pebble", Map.of())
          .pebble("nonce", Map.of("PEBBLE_WFE_NONCEREJECT", "30"))
          // no badNonce (Pebble rejects 5 % by default, and acme4j resends): the EAB test counts
          // newAccount requests
          .pebble(
              "eab",
              Map.of("PEBBLE_WFE_NONCEREJECT", "0"),
              o -> o.requiringExternalAccountBinding(Map.of(EAB_KID, EAB_KEY)));

  static ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @BeforeAll
  static void start() {
    logs.start();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
  }

  @AfterAll
  static void stop() {
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
  }

  private Settings settings(PebbleServer ca) {
    Map<String, String> s = fx.settings(ca.directoryUrl(), ca.trustPem());
    s.put("ca.pebble.contact", "mailto:ops@example.com");
    s.put("acme.key.dir", fx.work().resolve("keys-" + fx.prefix()).toString());
    s.put("order.group.id", "order-" + fx.prefix());
    return Settings.of(s);
  }

  private OrderServiceApp startService(PebbleServer ca) {
    OrderServiceApp app = OrderServiceApp.start(settings(ca));
    fx.keep(app);
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!app.ready() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    return app;
  }

  private Publisher publisher() {
    Publisher p = Publisher.create(fx.stack().clientProps(), "it-publisher");
    fx.keep(p);
    return p;
  }

  static RenewalRequested request(String id, String profile, String... names) {
    return StackFixture.request(id, ChallengeType.HTTP_01, profile, names);
  }

  private <K, V> List<ConsumerRecord<K, V>> await(Topic<K, V> topic, int count) {
    return new TopicReader(fx.stack().clientProps()).await(topic, r -> true, count, WAIT);
  }

  private <K, V> List<ConsumerRecord<K, V>> readAll(Topic<K, V> topic) {
    return new TopicReader(fx.stack().clientProps()).readAll(topic, Duration.ofSeconds(10));
  }

  private Login login(PebbleServer ca) throws Exception {
    CaProfile profile =
        CaProfiles.from(settings(ca).withDefaults(Map.of())).get("pebble").orElseThrow();
    return new AccountStore(fx.work().resolve("keys-" + fx.prefix()))
        .existingLogin(profile, new AcmeSessions().session(profile));
  }

  @Test
  void aRequestBecomesAnOrderThatPebbleKnows() throws Exception {
    startService(fx.pebble("pebble"));
    String id = UUID.randomUUID().toString();
    publisher()
        .send(
            fx.topics().renewalRequested,
            id,
            request(id, "pebble", "shop.example", "www.shop.example"))
        .get();

    OrderPlaced placed = await(fx.topics().orderPlaced, 1).get(0).value();
    assertThat(placed.getRequestId()).isEqualTo(id);
    assertThat(placed.getAuthorizationUrls()).hasSize(2);
    assertThat(placed.getResumed()).isFalse();

    Order order = login(fx.pebble("pebble")).bindOrder(URI.create(placed.getOrderUrl()).toURL());
    order.fetch();
    assertThat(order.getIdentifiers())
        .extracting(i -> i.getDomain())
        .containsExactlyInAnyOrder("shop.example", "www.shop.example");
    assertThat(order.getLocation().toString()).isEqualTo(placed.getOrderUrl());

    Path key =
        new AccountStore(fx.work().resolve("keys-" + fx.prefix()))
            .keyFile(CaProfiles.from(settings(fx.pebble("pebble"))).get("pebble").orElseThrow());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key)))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key.getParent())))
        .isEqualTo("rwx------");
  }

  @Test
  void theSameRequestPublishedTwiceGivesOneOrder() throws Exception {
    OrderServiceApp app = startService(fx.pebble("pebble"));
    String id = UUID.randomUUID().toString();
    RenewalRequested request = request(id, "pebble", "twice.example");
    Publisher publisher = publisher();
    publisher.send(fx.topics().renewalRequested, id, request).get();
    publisher.send(fx.topics().renewalRequested, id, request).get();
    await(fx.topics().orderPlaced, 1);
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (app.metrics().snapshot().get("requests.received") < 2 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    Thread.sleep(500);
    assertThat(readAll(fx.topics().orderPlaced)).hasSize(1);
    assertThat(app.metrics().snapshot())
        .containsEntry("requests.duplicate", 1L)
        .containsEntry("orders.placed", 1L);
  }

  @Test
  void aServiceRestartedBetweenNewOrderAndTheAnnouncementResumesWithoutASecondOrder()
      throws Exception {
    String id = UUID.randomUUID().toString();
    RenewalRequested request = request(id, "pebble", "resume.example");
    // First life: newOrder succeeds, the record is written, then the process dies before
    // OrderPlaced.
    Map<String, Object> props = new HashMap<>(fx.stack().clientProps());
    props.put("acks", "all");
    Publisher crashing =
        new Publisher(new CrashBeforeSending(props, fx.topics().orderPlaced.name()));
    fx.keep(crashing);
    ExecutorService workers = Executors.newFixedThreadPool(2);
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    fx.keep(workers::shutdownNow);
    fx.keep(scheduler::shutdownNow);
    CaProfiles profiles = CaProfiles.from(settings(fx.pebble("pebble")));
    CompactedStore<OrderRecord> firstRecords =
        new CompactedStore<>(fx.topics().orderRecords, crashing, fx.stack().clientProps());
    ServiceMetrics firstMetrics = new ServiceMetrics("order-service");
    RequestHandler firstLife =
        new RequestHandler(
            profiles,
            new CaCalls(
                Map.of("pebble", new Pacer(2, 100, workers, scheduler)),
                crashing,
                fx.topics(),
                Clock.systemUTC(),
                firstMetrics),
            new Acme4jOrderGateway(
                new AcmeSessions(), new AccountStore(fx.work().resolve("keys-" + fx.prefix()))),
            firstRecords,
            crashing,
            fx.topics(),
            Clock.systemUTC(),
            firstMetrics);
    CompletableFuture<Void> died = firstLife.handle(id, request);
    assertThat(died).failsWithin(WAIT);
    String recordedOrder = firstRecords.get(id).orElseThrow().getOrderUrl();
    assertThat(readAll(fx.topics().orderPlaced)).isEmpty();

    // Second life: the real service; the request is delivered again (its offset was never
    // committed).
    OrderServiceApp app = startService(fx.pebble("pebble"));
    publisher().send(fx.topics().renewalRequested, id, request).get();
    OrderPlaced placed = await(fx.topics().orderPlaced, 1).get(0).value();
    assertThat(placed.getOrderUrl()).isEqualTo(recordedOrder);
    assertThat(placed.getResumed()).isTrue();
    assertThat(app.metrics().snapshot())
        .containsEntry("orders.resumed", 1L)
        .containsEntry("orders.placed", 1L);
  }

  @Test
  void garbageBytesLandInTheDeadLetterTopicAndTheNextRequestStillGoesThrough() throws Exception {
    startService(fx.pebble("pebble"));
    byte[] garbage = "{\"this is\": \"not avro\"}".getBytes(StandardCharsets.UTF_8);
    try (KafkaProducer<byte[], byte[]> raw =
        new KafkaProducer<>(
            fx.stack().clientProps(), new ByteArraySerializer(), new ByteArraySerializer())) {
      // Same partition as the valid request after it, so that the poison record comes first.
      String id = UUID.randomUUID().toString();
      int partition =
          org.apache.kafka.common.utils.Utils.toPositive(
                  org.apache.kafka.common.utils.Utils.murmur2(id.getBytes(StandardCharsets.UTF_8)))
              % 3;
      raw.send(
              new ProducerRecord<>(
                  fx.topics().renewalRequested.name(),
                  partition,
                  "junk".getBytes(StandardCharsets.UTF_8),
                  garbage))
          .get();
      raw.flush();
      publisher()
          .send(fx.topics().renewalRequested, id, request(id, "pebble", "after-poison.example"))
          .get();
      assertThat(await(fx.topics().orderPlaced, 1).get(0).value().getRequestId()).isEqualTo(id);
    }
    ConsumerRecord<byte[], byte[]> dead = await(fx.topics().renewalRequestedDlq, 1).get(0);
    assertThat(dead.value()).isEqualTo(garbage);
    assertThat(new String(dead.key(), StandardCharsets.UTF_8)).isEqualTo("junk");
    assertThat(DeadLetter.header(dead.headers(), DeadLetter.REASON)).contains("magic byte");
    assertThat(DeadLetter.header(dead.headers(), DeadLetter.SOURCE_TOPIC))
        .isEqualTo(fx.topics().renewalRequested.name());
    assertThat(DeadLetter.header(dead.headers(), DeadLetter.SOURCE_OFFSET)).isEqualTo("0");
  }

  /**
   * A CA that requires external account binding (Pebble's {@code externalAccountBindingRequired}):
   * the account is created once, with the binding; after a restart the recorded account is used (no
   * second newAccount); a profile with a wrong MAC key fails once at the account stage, naming the
   * profile, and is not retried.
   */
  @Test
  void anAccountIsBoundOnceAndAWrongMacKeyFailsAtTheAccountStageNamingTheProfile()
      throws Exception {
    FaultyAcmeProxy proxy =
        fx.keep(FaultyAcmeProxy.start(fx.pebble("eab"), fx.dir().resolve("eab-proxy")));
    List<String> newAccounts = java.util.Collections.synchronizedList(new ArrayList<>());
    proxy.intercept(
        r -> {
          if (r.method().equals("POST") && r.path().equals("/sign-me-up") && r.hasPayload()) {
            newAccounts.add(
                new String(
                    java.util.Base64.getUrlDecoder().decode(r.jwsPayload()),
                    java.nio.charset.StandardCharsets.UTF_8));
          }
          return null;
        });
    Map<String, String> s = fx.settings(proxy.directoryUrl(), proxy.trustPem());
    s.put("ca.profiles", "pebble,wrong");
    s.put("ca.pebble.eab.kid", EAB_KID);
    s.put("ca.pebble.eab.hmac", EAB_KEY);
    s.put("ca.wrong.directory.url", proxy.directoryUrl().toString());
    s.put("ca.wrong.trust.pem", proxy.trustPem().toString());
    s.put("ca.wrong.terms.agreed", "true");
    s.put("ca.wrong.eab.kid", EAB_KID);
    s.put("ca.wrong.eab.hmac", EAB_KEY.substring(1) + "A");
    s.put("acme.key.dir", fx.work().resolve("keys-" + fx.prefix()).toString());
    s.put("order.group.id", "order-" + fx.prefix());

    OrderServiceApp first = OrderServiceApp.start(Settings.of(s));
    try {
      String id = UUID.randomUUID().toString();
      publisher()
          .send(fx.topics().renewalRequested, id, request(id, "pebble", "eab.example"))
          .get();
      assertThat(await(fx.topics().orderPlaced, 1)).hasSize(1);
    } finally {
      first.close();
    }
    assertThat(newAccounts).hasSize(1);
    assertThat(newAccounts.get(0)).contains("externalAccountBinding");

    fx.keep(OrderServiceApp.start(Settings.of(s)));
    String again = UUID.randomUUID().toString();
    publisher()
        .send(fx.topics().renewalRequested, again, request(again, "pebble", "eab-again.example"))
        .get();
    assertThat(await(fx.topics().orderPlaced, 2)).hasSize(2);
    assertThat(newAccounts).as("the binding is never sent again").hasSize(1);

    String wrong = UUID.randomUUID().toString();
    publisher()
        .send(fx.topics().renewalRequested, wrong, request(wrong, "wrong", "eab-wrong.example"))
        .get();
    RenewalFailed failed = await(fx.topics().renewalFailed, 1).get(0).value();
    assertThat(failed.getStage()).isEqualTo(Stage.ACCOUNT);
    assertThat(failed.getRetryable()).isFalse();
    assertThat(failed.getProblem().getDetail()).startsWith("CA profile 'wrong': ");
    Thread.sleep(2000);
    assertThat(newAccounts).as("one try with the wrong key, no retry loop").hasSize(2);
    assertThat(readAll(fx.topics().orderPlaced)).hasSize(2);
  }

  @Test
  void anUnknownProfileGivesRenewalFailedAndNoOrder() throws Exception {
    startService(fx.pebble("pebble"));
    String id = UUID.randomUUID().toString();
    RenewalRequested request = request(id, "zerossl", "unknown-profile.example");
    publisher().send(fx.topics().renewalRequested, id, request).get();
    RenewalFailed failed = await(fx.topics().renewalFailed, 1).get(0).value();
    assertThat(failed.getStage()).isEqualTo(Stage.REQUEST_VALIDATION);
    assertThat(failed.getProblem().getType()).isEqualTo("urn:renewal:problem:unknown-ca-profile");
    assertThat(failed.getProblem().getDetail()).contains("'zerossl'");
    assertThat(failed.getRequest()).isEqualTo(request);
    assertThat(readAll(fx.topics().orderPlaced)).isEmpty();
  }

  @Test
  void withThirtyPercentOfNoncesRejectedNothingFails() throws Exception {
    OrderServiceApp app = startService(fx.pebble("nonce"));
    Publisher publisher = publisher();
    int n = 12;
    for (int i = 0; i < n; i++) {
      String id = UUID.randomUUID().toString();
      publisher.send(
          fx.topics().renewalRequested,
          id,
          request(id, "pebble", "nonce" + i + ".example", "www.nonce" + i + ".example"));
    }
    publisher.flush();
    assertThat(await(fx.topics().orderPlaced, n)).hasSize(n);
    assertThat(readAll(fx.topics().renewalFailed)).isEmpty();
    assertThat(app.metrics().snapshot()).containsEntry("orders.placed", (long) n);
  }

  @Test
  void noPrivateKeyAppearsInAnyEventOrLogLine() throws Exception {
    startService(fx.pebble("pebble"));
    String id = UUID.randomUUID().toString();
    publisher()
        .send(fx.topics().renewalRequested, id, request(id, "pebble", "secret.example"))
        .get();
    assertThat(await(fx.topics().orderPlaced, 1)).hasSize(1);
    String key =
        Files.readString(
            new AccountStore(fx.work().resolve("keys-" + fx.prefix()))
                .keyFile(
                    CaProfiles.from(settings(fx.pebble("pebble"))).get("pebble").orElseThrow()));
    String keyBody = key.lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
    for (Topic<?, ?> topic : fx.topics().all()) {
      Map<String, Object> props = new HashMap<>(fx.stack().clientProps());
      Topic<byte[], byte[]> raw =
          new Topic<>(
              topic.name(),
              org.apache.kafka.common.serialization.Serdes.ByteArray(),
              org.apache.kafka.common.serialization.Serdes.ByteArray(),
              3,
              Map.of());
      for (ConsumerRecord<byte[], byte[]> r :
          new TopicReader(props).readAll(raw, Duration.ofSeconds(10))) {
        String text = r.value() == null ? "" : new String(r.value(), StandardCharsets.ISO_8859_1);
        assertThat(text).as(topic.name()).doesNotContain("PRIVATE KEY").doesNotContain(keyBody);
      }
    }
    for (ILoggingEvent event : List.copyOf(logs.list)) {
      assertThat(event.getFormattedMessage()).doesNotContain("PRIVATE KEY").doesNotContain(keyBody);
    }
    assertThat(logs.list).isNotEmpty();
  }
}
