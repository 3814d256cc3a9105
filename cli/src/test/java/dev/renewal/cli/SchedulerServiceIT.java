package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.challenge.ChallengeServiceApp;
import dev.renewal.config.Settings;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.DueReason;
import dev.renewal.events.RenewalDue;
import dev.renewal.finalize.FinalizeServiceApp;
import dev.renewal.order.OrderServiceApp;
import dev.renewal.scheduler.SchedulerServiceApp;
import dev.renewal.testkit.StackFixture;
import dev.renewal.testkit.pebble.FaultyAcmeProxy;
import dev.renewal.testkit.pebble.PebbleServer;
import dev.renewal.testkit.pebble.RenewalInfoResponder;
import dev.renewal.topics.TopicReader;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Renewal with no operator action, on the real broker and Pebble issuing 40-second certificates:
 * one request is published; scheduler-service (a process of its own) renews the certificate when
 * half its lifetime is left, twice, and is killed and restarted between the two renewals.
 */
class SchedulerServiceIT {
  private static final Duration LIFETIME = Duration.ofSeconds(40);

  @RegisterExtension
  static final StackFixture fx =
      StackFixture.create()
          .pebble("short", Map.of(), LIFETIME)
          .pebble("backup", Map.of(), LIFETIME, "short");

  private Path schedulerConfig() throws Exception {
    Map<String, String> s =
        fx.settings(fx.pebble("short").directoryUrl(), fx.pebble("short").trustPem());
    s.put("instance.id", "scheduler-it");
    s.put("instance.session.timeout", "10s");
    s.put("scheduler.application.id", "scheduler-" + fx.prefix());
    s.put("scheduler.state.dir", fx.dir().resolve("scheduler-state").toString());
    s.put("scheduler.metrics.port", "-1");
    return properties(s, "scheduler.properties");
  }

  /** {@code settings} as a properties file {@code name} in this test's folder. */
  private static Path properties(Map<String, String> settings, String name) throws Exception {
    Path file = fx.dir().resolve(name);
    Files.writeString(
        file,
        settings.entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining("\n")));
    return file;
  }

  private List<CertificateIssued> issued(TopicReader reader, String name) {
    return reader.readAll(fx.topics().certificateIssued, Duration.ofSeconds(10)).stream()
        .map(ConsumerRecord::value)
        .filter(c -> c != null && c.getCertificateName().equals(name))
        .toList();
  }

  private List<CertificateIssued> awaitIssued(TopicReader reader, String name, int n, Duration wait)
      throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    List<CertificateIssued> out = List.of();
    while (System.nanoTime() < deadline) {
      out = issued(reader, name);
      if (out.stream().map(CertificateIssued::getSerialNumber).distinct().count() >= n) {
        return out;
      }
      Thread.sleep(250);
    }
    return out;
  }

  /** The three services' keys for this test: its group and application ids, its folders. */
  private Map<String, String> services(Map<String, String> s) {
    s.put("acme.key.dir", fx.dir().resolve("keys").toString());
    s.put("order.group.id", "order-" + fx.prefix());
    s.put("challenge.group.id", "challenge-" + fx.prefix());
    s.put("challenge.http01.host", "127.0.0.1");
    s.put("challenge.http01.port", String.valueOf(fx.httpPort("short")));
    s.put("finalize.application.id", "finalize-" + fx.prefix());
    s.put("finalize.group.id", "finalize-worker-" + fx.prefix());
    s.put("finalize.state.dir", fx.dir().resolve("state").toString());
    s.put("finalize.output.dir", fx.dir().resolve("certificates").toString());
    for (String k : List.of("order", "challenge", "finalize")) {
      s.put(k + ".metrics.port", "-1");
    }
    return s;
  }

  /** The four services in this JVM, scheduler-service with an application id of this test. */
  private static void startAllInProcess(Map<String, String> s) {
    s.put("scheduler.application.id", "scheduler-" + fx.prefix());
    s.put("scheduler.state.dir", fx.dir().resolve("scheduler-state").toString());
    s.put("scheduler.metrics.port", "-1");
    fx.keep(OrderServiceApp.start(Settings.of(s)));
    fx.keep(ChallengeServiceApp.start(Settings.of(s)));
    fx.keep(FinalizeServiceApp.start(Settings.of(s)));
    fx.keep(SchedulerServiceApp.start(Settings.of(s)));
  }

  private static void profile(Map<String, String> s, String name, URI directory, Path trust) {
    s.put("ca." + name + ".directory.url", directory.toString());
    s.put("ca." + name + ".trust.pem", trust.toString());
    s.put("ca." + name + ".terms.agreed", "true");
  }

  private static List<RenewalDue> dueFor(TopicReader reader, String name) {
    return reader.readAll(fx.topics().due, Duration.ofSeconds(10)).stream()
        .map(ConsumerRecord::value)
        .filter(d -> d != null && d.getCertificateName().equals(name))
        .toList();
  }

  /**
   * A CA that answers 503 to everything: the renewal of a certificate whose profile names a
   * fallback is issued by the fallback (a second Pebble); a certificate on a profile without one is
   * retried with its (shortened) back-off and issued once the CA answers again.
   */
  @Test
  void aCaThatIsDownIsReplacedByItsFallbackAndRetriesEndInACertificateOnceItIsBack()
      throws Exception {
    FaultyAcmeProxy proxy =
        fx.keep(FaultyAcmeProxy.start(fx.pebble("short"), fx.dir().resolve("proxy")));
    AtomicBoolean down = new AtomicBoolean();
    proxy.intercept(
        r ->
            down.get()
                ? new FaultyAcmeProxy.Reply(
                    503,
                    Map.of("Content-Type", "application/problem+json", "Retry-After", "1"),
                    "{\"type\":\"urn:ietf:params:acme:error:serverInternal\","
                        + "\"detail\":\"down for the test\",\"status\":503}")
                : null);
    PebbleServer backup = fx.pebble("backup");
    Map<String, String> s = services(fx.settings(proxy.directoryUrl(), proxy.trustPem()));
    s.put("ca.profiles", "pebble,backup,solo");
    profile(s, "backup", backup.directoryUrl(), backup.trustPem());
    profile(s, "solo", proxy.directoryUrl(), proxy.trustPem());
    for (String p : List.of("pebble", "backup", "solo")) {
      // A stage gives up after two tries, and the scheduler retries after 2 s, then 4 s.
      s.put("ca." + p + ".retry.max.attempts", "2");
      s.put("ca." + p + ".retry.budget", "10s");
      s.put("ca." + p + ".renewal.retry.initial", "2s");
      s.put("ca." + p + ".renewal.retry.max", "4s");
    }
    s.put("ca.pebble.fallback", "backup");
    startAllInProcess(s);
    TopicReader reader = new TopicReader(fx.stack().clientProps());

    String id = fx.publish(ChallengeType.HTTP_01, "falls-back.example");
    String name = "c-" + id.substring(0, 8);
    List<CertificateIssued> first = awaitIssued(reader, name, 1, Duration.ofSeconds(60));
    assertThat(first).hasSize(1);
    assertThat(first.get(0).getCaProfile()).isEqualTo("pebble");

    // Down before its renewal (half of 40 s left): the renewal fails, and goes to backup at once.
    down.set(true);
    List<CertificateIssued> two = awaitIssued(reader, name, 2, Duration.ofSeconds(90));
    assertThat(two).extracting(CertificateIssued::getCaProfile).contains("pebble", "backup");
    CertificateIssued byBackup =
        two.stream().filter(c -> "backup".equals(c.getCaProfile())).findFirst().orElseThrow();
    assertThat(byBackup.getAttempt()).isEqualTo(2);
    List<RenewalDue> due = dueFor(reader, name);
    assertThat(due)
        .extracting(RenewalDue::getReason)
        .startsWith(DueReason.LIFETIME, DueReason.FALLBACK);
    RenewalDue fallback = due.get(1);
    assertThat(fallback.getCaProfile()).isEqualTo("backup");
    assertThat(fallback.getFallbackFrom()).isEqualTo("pebble");
    assertThat(fallback.getRenewalRequestId()).isEqualTo(byBackup.getRequestId());

    // A first certificate on a profile without a fallback, while the CA is down: retried.
    String soloId = UUID.randomUUID().toString();
    fx.keep(dev.renewal.topics.Publisher.create(fx.stack().clientProps(), "it"))
        .send(
            fx.topics().renewalRequested,
            soloId,
            StackFixture.request(soloId, ChallengeType.HTTP_01, "solo", "retried.example"))
        .get();
    String soloName = "c-" + soloId.substring(0, 8);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (dueFor(reader, soloName).stream().noneMatch(d -> d.getReason() == DueReason.RETRY)
        && System.nanoTime() < deadline) {
      Thread.sleep(500);
    }
    down.set(false);
    List<CertificateIssued> solo = awaitIssued(reader, soloName, 1, Duration.ofSeconds(60));
    assertThat(solo).hasSize(1);
    assertThat(solo.get(0).getCaProfile()).isEqualTo("solo");
    assertThat(solo.get(0).getAttempt()).isGreaterThan(1);
    assertThat(dueFor(reader, soloName))
        .isNotEmpty()
        .allSatisfy(d -> assertThat(d.getReason()).isEqualTo(DueReason.RETRY))
        .allSatisfy(d -> assertThat(d.getCaProfile()).isEqualTo("solo"));
    dueFor(reader, name)
        .forEach(
            d ->
                System.out.printf(
                    "due %s %s at %s profile %s attempt %d from %s%n",
                    name,
                    d.getReason(),
                    d.getOccurredAt(),
                    d.getCaProfile(),
                    d.getAttempt(),
                    d.getFallbackFrom()));
    dueFor(reader, soloName)
        .forEach(
            d ->
                System.out.printf(
                    "due %s %s at %s profile %s attempt %d%n",
                    soloName, d.getReason(), d.getOccurredAt(), d.getCaProfile(), d.getAttempt()));
  }

  /**
   * ARI end to end, with the proxy's RFC 9773 responder in front of Pebble: the CA moves the window
   * of a certificate into the past (a mass revocation); the scheduler's fetcher sees it, the
   * certificate is renewed at once (long before its lifetime rule), with the reason and the CA's
   * explanation on its RenewalDue, and the renewal's newOrder carries {@code replaces} (refused
   * once by the CA with {@code alreadyReplaced}: order-service orders again without it). With
   * {@code revoke.superseded}, the certificate it replaced is then revoked (reason superseded).
   */
  @Test
  void aRenewalWindowMovedIntoThePastIsRenewedAtOnceAndItsOrderReplacesTheCertificate()
      throws Exception {
    FaultyAcmeProxy proxy =
        fx.keep(FaultyAcmeProxy.start(fx.pebble("short"), fx.dir().resolve("ari-proxy")));
    // The CA refuses the first replacement it is asked for: order-service orders again without.
    RenewalInfoResponder ari = RenewalInfoResponder.install(proxy).refuseReplaces(1);
    java.util.concurrent.atomic.AtomicReference<String> revoked =
        new java.util.concurrent.atomic.AtomicReference<>();
    ari.windows(
        certId -> {
          // The first certificate asked about is the one the CA wants replaced now.
          revoked.compareAndSet(null, certId);
          if (!certId.equals(revoked.get())) {
            return java.util.Optional.empty();
          }
          java.time.Instant now = java.time.Instant.now();
          return java.util.Optional.of(
              new RenewalInfoResponder.Window(
                  now.minusSeconds(120),
                  now.minusSeconds(60),
                  "https://ca.example/incident-2026-12",
                  Duration.ofHours(1)));
        });
    Map<String, String> s = services(fx.settings(proxy.directoryUrl(), proxy.trustPem()));
    s.put("ca.pebble.revoke.superseded", "true");
    startAllInProcess(s);
    TopicReader reader = new TopicReader(fx.stack().clientProps());

    // By its lifetime rule it would be renewed a second before it expires, 40 s after issuance.
    String id = publishRenewedLate("ari.example");
    String name = "c-" + id.substring(0, 8);
    List<CertificateIssued> two =
        awaitIssued(reader, name, 2, Duration.ofSeconds(60)).stream()
            .sorted(java.util.Comparator.comparing(CertificateIssued::getOccurredAt))
            .toList();
    assertThat(two.stream().map(CertificateIssued::getSerialNumber).distinct()).hasSize(2);
    CertificateIssued first = two.get(0);
    CertificateIssued renewal = two.get(1);
    assertThat(first.getAriCertId()).isEqualTo(revoked.get());
    assertThat(Duration.between(first.getNotBefore(), renewal.getOccurredAt()))
        .as("renewed by the window, not by the lifetime rule")
        .isLessThan(Duration.ofSeconds(30));

    RenewalDue due = dueFor(reader, name).get(0);
    assertThat(due.getReason()).isEqualTo(DueReason.ARI_WINDOW_PASSED);
    assertThat(due.getExplanationUrl()).isEqualTo("https://ca.example/incident-2026-12");
    assertThat(due.getRenewalRequestId()).isEqualTo(renewal.getRequestId());
    assertThat(ari.replaces()).as("the renewal's newOrder").contains(first.getAriCertId());
    assertThat(ari.refusedReplaces()).as("refused once, ordered again without it").isEqualTo(1);
    List<dev.renewal.events.RenewalInfoObserved> observed =
        reader.readAll(fx.topics().renewalInfo, Duration.ofSeconds(10)).stream()
            .map(ConsumerRecord::value)
            .filter(o -> o != null && o.getCertificateName().equals(name))
            .toList();
    assertThat(observed)
        .filteredOn(o -> o.getAriCertId().equals(first.getAriCertId()))
        .first()
        .satisfies(
            o -> {
              assertThat(o.getWindowEnd()).isNotNull();
              assertThat(o.getNextFetchAt())
                  .as("at the Retry-After")
                  .isBetween(
                      o.getOccurredAt().plus(Duration.ofMinutes(59)),
                      o.getOccurredAt().plus(Duration.ofMinutes(61)));
            });
    System.out.println(
        "renewal information fetched: " + ari.fetches() + " replaces " + ari.replaces());

    // revoke.superseded: the certificate the renewal replaced is revoked, once, at the CA.
    dev.renewal.events.CertificateRevoked superseded =
        reader
            .await(
                fx.topics().certificateRevoked,
                r ->
                    r.value() != null
                        && r.value().getSerialNumber().equals(first.getSerialNumber()),
                1,
                Duration.ofSeconds(30))
            .get(0)
            .value();
    assertThat(superseded.getReason()).isEqualTo(dev.renewal.events.RevocationReason.SUPERSEDED);
    assertThat(superseded.getRequestedBy()).isEqualTo("scheduler-service");
    assertThat(superseded.getAlreadyRevoked()).isFalse();
    assertThat(
            reader.readAll(fx.topics().revocationRequested, Duration.ofSeconds(10)).stream()
                .map(ConsumerRecord::value)
                .filter(v -> v.getSerialNumber().equals(first.getSerialNumber())))
        .as("asked once")
        .hasSize(1);
    assertThat(fx.pebble("short").certificateStatus(first.getSerialNumber()).orElseThrow())
        .contains("\"Status\": \"Revoked\"")
        .contains("\"Reason\": 4");
    assertThat(fx.pebble("short").certificateStatus(renewal.getSerialNumber()).orElseThrow())
        .contains("\"Status\": \"Valid\"");

    // The account those orders used, as `renewal account show` tells it.
    Path config = properties(s, "account.properties");
    String[] shown = cli("account", "show", "--ca", "pebble", "--config", config.toString());
    assertThat(shown[0]).as(shown[2]).isEqualTo("0");
    String accountUrl =
        Files.readString(fx.dir().resolve("keys").resolve("pebble").resolve("account.url")).trim();
    assertThat(shown[1])
        .contains("account      " + accountUrl)
        .contains("status       valid")
        .contains("key          EC P-384, made ")
        .doesNotContain("PRIVATE");
    String[] unknown = cli("account", "show", "--ca", "nowhere", "--config", config.toString());
    assertThat(unknown[0]).isEqualTo("2");
    assertThat(unknown[2].strip())
        .startsWith("renewal account show: --ca: no CA profile 'nowhere'");
    String[] none =
        cli(
            "account",
            "show",
            "--ca",
            "pebble",
            "--config",
            config.toString(),
            "--set",
            "acme.key.dir=" + fx.dir().resolve("no-keys"));
    assertThat(none[0]).isEqualTo("1");
    assertThat(none[2]).contains("no account for CA profile 'pebble'");
    System.out.print(shown[1]);
  }

  /**
   * Revocation end to end, against Pebble: {@code renewal revoke NAME --reason keyCompromise};
   * Pebble reports the certificate revoked with reason 1; the same command again (by serial)
   * revokes nothing more and reports success; the managed certificate is renewed at once, with a
   * new key; an unknown name or reason publishes nothing; a revocation from another client naming a
   * certificate the pipeline did not issue is answered RevocationFailed.
   */
  @Test
  void aCertificateRevokedByNameIsRevokedOnceAtTheCaAndRenewedAtOnceWithANewKey() throws Exception {
    PebbleServer ca = fx.pebble("short");
    Map<String, String> s = services(fx.settings(ca.directoryUrl(), ca.trustPem()));
    startAllInProcess(s);
    Path config = properties(s, "revoke.properties");
    TopicReader reader = new TopicReader(fx.stack().clientProps());
    String id = publishRenewedLate("revoked.example");
    String name = "c-" + id.substring(0, 8);
    CertificateIssued first = awaitIssued(reader, name, 1, Duration.ofSeconds(60)).get(0);
    assertThat(ca.certificateStatus(first.getSerialNumber()).orElseThrow())
        .contains("\"Status\": \"Valid\"");

    // Bad input: one line, exit 2, nothing published.
    String[] unknown = cli("revoke", "no-such-name", "--config", config.toString());
    assertThat(unknown[0]).isEqualTo("2");
    assertThat(unknown[2].strip())
        .isEqualTo(
            "renewal revoke: no certificate issued for the name 'no-such-name' (renewal"
                + " certificates lists them) (--help for usage)");
    String[] badReason =
        cli("revoke", name, "--reason", "caCompromise", "--config", config.toString());
    assertThat(badReason[0]).isEqualTo("2");
    assertThat(badReason[2]).contains("--reason: 'caCompromise' is not one of unspecified");
    assertThat(reader.readAll(fx.topics().revocationRequested, Duration.ofSeconds(5))).isEmpty();

    String[] revoked =
        cli("revoke", name, "--reason", "keyCompromise", "--config", config.toString());
    assertThat(revoked[0]).as(revoked[1] + revoked[2]).isEqualTo("0");
    assertThat(revoked[1])
        .contains(
            "revoked: " + name + " serial " + first.getSerialNumber() + ", reason keyCompromise")
        .contains("its key is retired")
        .doesNotContain("revoked already");
    String status = ca.certificateStatus(first.getSerialNumber()).orElseThrow();
    assertThat(status).contains("\"Status\": \"Revoked\"").contains("\"Reason\": 1");

    String[] timeline = cli("status", id, "--config", config.toString());
    assertThat(timeline[1])
        .contains("revocation asked   serial " + first.getSerialNumber() + ", reason keyCompromise")
        .contains("certificate REVOKED serial " + first.getSerialNumber())
        .contains("now: issued, serial " + first.getSerialNumber() + ", REVOKED (keyCompromise)");

    // Again, by serial: nothing more is revoked, and it is success.
    String[] again =
        cli(
            "revoke",
            "--serial",
            first.getSerialNumber().toUpperCase(java.util.Locale.ROOT),
            "--reason",
            "keyCompromise",
            "--config",
            config.toString());
    assertThat(again[0]).as(again[1] + again[2]).isEqualTo("0");
    assertThat(again[1]).contains("(the CA says it was revoked already)");
    List<dev.renewal.events.CertificateRevoked> confirmations =
        reader.readAll(fx.topics().certificateRevoked, Duration.ofSeconds(10)).stream()
            .map(ConsumerRecord::value)
            .filter(r -> r.getSerialNumber().equals(first.getSerialNumber()))
            .toList();
    assertThat(confirmations)
        .extracting(dev.renewal.events.CertificateRevoked::getAlreadyRevoked)
        .containsExactly(false, true);
    assertThat(confirmations.get(0).getSignedWithCertificateKey()).isTrue();

    // Renewed at once (its lifetime rule would wait 39 s), with a new key.
    List<CertificateIssued> two = awaitIssued(reader, name, 2, Duration.ofSeconds(30));
    assertThat(two.stream().map(CertificateIssued::getSerialNumber).distinct()).hasSize(2);
    CertificateIssued renewal =
        two.stream()
            .filter(c -> !c.getSerialNumber().equals(first.getSerialNumber()))
            .findFirst()
            .orElseThrow();
    assertThat(Duration.between(first.getNotBefore(), renewal.getOccurredAt()))
        .isLessThan(Duration.ofSeconds(35));
    assertThat(dueFor(reader, name)).extracting(RenewalDue::getReason).contains(DueReason.REVOKED);
    assertThat(publicKey(renewal)).isNotEqualTo(publicKey(first));

    // From another client, a certificate the pipeline did not issue: refused, with the reason.
    String foreign = UUID.randomUUID().toString();
    fx.keep(dev.renewal.topics.Publisher.create(fx.stack().clientProps(), "other-client"))
        .send(
            fx.topics().revocationRequested,
            foreign,
            dev.renewal.events.RevocationRequested.newBuilder()
                .setEventId("foreign-1")
                .setOccurredAt(java.time.Instant.now())
                .setRequestId(foreign)
                .setCertificateName("not-ours")
                .setSerialNumber("abcdef")
                .setReason(dev.renewal.events.RevocationReason.UNSPECIFIED)
                .build())
        .get();
    dev.renewal.events.RevocationFailed refused =
        reader
            .await(
                fx.topics().revocationFailed,
                r -> r.value() != null && "foreign-1".equals(r.value().getRevocationEventId()),
                1,
                Duration.ofSeconds(30))
            .get(0)
            .value();
    assertThat(refused.getProblem().getType()).isEqualTo("urn:renewal:problem:unknown-certificate");
    System.out.print(revoked[1] + again[1]);
  }

  /**
   * The account key rolled over (RFC 8555 keyChange) with {@code renewal account rollover} while
   * the services run: their next orders use the new key without a restart, and Pebble refuses the
   * old one. A rollover killed between the CA's answer and the local switch is finished by the
   * services' next login (the CA knows the new key); one killed before the CA was asked is
   * discarded (it does not).
   */
  @Test
  void anAccountKeyRolledOverIsUsedByRunningServicesAndAnInterruptedRolloverIsSettled()
      throws Exception {
    // Through the proxy: it kills the rollover process the moment Pebble has answered its
    // keyChange.
    FaultyAcmeProxy proxy =
        fx.keep(FaultyAcmeProxy.start(fx.pebble("short"), fx.dir().resolve("rollover-proxy")));
    java.util.concurrent.atomic.AtomicReference<Process> victim =
        new java.util.concurrent.atomic.AtomicReference<>();
    proxy.replace(
        exchange -> {
          Process p = victim.get();
          if (p != null && exchange.path().endsWith("/rollover-account-key")) {
            assertThat(exchange.status()).as("Pebble changed the key").isEqualTo(200);
            p.destroyForcibly();
            try {
              p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return null;
        });
    Map<String, String> s = services(fx.settings(proxy.directoryUrl(), proxy.trustPem()));
    Path keys = fx.dir().resolve("keys-rollover");
    s.put("acme.key.dir", keys.toString());
    s.put("order.group.id", "order-rollover-" + fx.prefix());
    s.put("challenge.group.id", "challenge-rollover-" + fx.prefix());
    s.put("finalize.application.id", "finalize-app-rollover-" + fx.prefix());
    s.put("finalize.group.id", "finalize-rollover-" + fx.prefix());
    s.put("finalize.revocation.group.id", "revocation-rollover-" + fx.prefix());
    s.put("finalize.state.dir", fx.dir().resolve("state-rollover").toString());
    fx.keep(OrderServiceApp.start(Settings.of(s)));
    fx.keep(ChallengeServiceApp.start(Settings.of(s)));
    fx.keep(FinalizeServiceApp.start(Settings.of(s)));
    Path config = properties(s, "rollover.properties");
    TopicReader reader = new TopicReader(fx.stack().clientProps());
    dev.renewal.acme.CaProfile profile =
        dev.renewal.acme.CaProfiles.from(
                Settings.of(s).withDefaults(dev.renewal.acme.ServiceContext.DEFAULTS))
            .get("pebble")
            .orElseThrow();
    Path accountKey = keys.resolve("pebble").resolve("account.key");
    Path nextKey = keys.resolve("pebble").resolve("account.key.next");

    String first = fx.publish(ChallengeType.HTTP_01, "rolled-1.example");
    assertThat(awaitIssued(reader, "c-" + first.substring(0, 8), 1, Duration.ofSeconds(60)))
        .hasSize(1);
    java.security.KeyPair old = readKey(accountKey);

    String[] rolled = cli("account", "rollover", "--ca", "pebble", "--config", config.toString());
    assertThat(rolled[0]).as(rolled[1] + rolled[2]).isEqualTo("0");
    assertThat(rolled[1]).contains("key          EC P-384, new, in " + accountKey);
    assertThat(java.nio.file.Files.getPosixFilePermissions(accountKey))
        .containsExactlyInAnyOrder(
            java.nio.file.attribute.PosixFilePermission.OWNER_READ,
            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
    assertThat(nextKey).doesNotExist();
    java.security.KeyPair rolledKey = readKey(accountKey);
    assertThat(rolledKey.getPublic()).isNotEqualTo(old.getPublic());
    assertThat(accountOf(profile, old)).as("Pebble refuses the old key").isEmpty();
    assertThat(accountOf(profile, rolledKey)).isPresent();

    String second = fx.publish(ChallengeType.HTTP_01, "rolled-2.example");
    assertThat(awaitIssued(reader, "c-" + second.substring(0, 8), 1, Duration.ofSeconds(60)))
        .as("the running services use the new key")
        .hasSize(1);

    // `renewal account rollover` as a process of its own, killed (SIGKILL) between Pebble's
    // keyChange answer and the local switch.
    Path log = fx.dir().resolve("rollover.log");
    Process rollover =
        CliProcess.start(
            log, "account", "rollover", "--ca", "pebble", "--config", config.toString());
    victim.set(rollover);
    assertThat(rollover.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(rollover.exitValue()).as(Files.readString(log)).isEqualTo(137);
    victim.set(null);
    assertThat(nextKey).exists();
    java.security.KeyPair interrupted = readKey(nextKey);
    assertThat(readKey(accountKey).getPublic()).isEqualTo(rolledKey.getPublic());
    assertThat(accountOf(profile, interrupted)).as("the CA has the new key").isPresent();
    String third = fx.publish(ChallengeType.HTTP_01, "rolled-3.example");
    assertThat(awaitIssued(reader, "c-" + third.substring(0, 8), 1, Duration.ofSeconds(60)))
        .as("the services' next login finishes the switch")
        .hasSize(1);
    assertThat(nextKey).doesNotExist();
    assertThat(readKey(accountKey).getPublic()).isEqualTo(interrupted.getPublic());

    // Killed after writing the new key, before asking the CA: discarded at the next login.
    java.nio.file.Files.copy(
        keys.resolve("pebble").resolve("account.key"), keys.resolve("kept.key"));
    java.nio.file.Files.writeString(
        nextKey, pem(org.shredzone.acme4j.util.KeyPairUtils.createECKeyPair("secp384r1")));
    String[] shown = cli("account", "show", "--ca", "pebble", "--config", config.toString());
    assertThat(shown[0]).as(shown[2]).isEqualTo("0");
    assertThat(shown[1]).contains("status       valid");
    assertThat(nextKey).doesNotExist();
    assertThat(readKey(accountKey).getPublic()).isEqualTo(interrupted.getPublic());
    System.out.print(rolled[1]);
  }

  private static java.security.KeyPair readKey(Path file) throws Exception {
    try (java.io.Reader in = java.nio.file.Files.newBufferedReader(file)) {
      return org.shredzone.acme4j.util.KeyPairUtils.readKeyPair(in);
    }
  }

  private static String pem(java.security.KeyPair key) throws Exception {
    java.io.StringWriter out = new java.io.StringWriter();
    org.shredzone.acme4j.util.KeyPairUtils.writeKeyPair(key, out);
    return out.toString();
  }

  /** The account Pebble holds for {@code key} (newAccount, onlyReturnExisting), if any. */
  private static java.util.Optional<java.net.URL> accountOf(
      dev.renewal.acme.CaProfile profile, java.security.KeyPair key) throws Exception {
    try {
      return java.util.Optional.of(
          new org.shredzone.acme4j.AccountBuilder()
              .onlyExisting()
              .useKeyPair(key)
              .createLogin(new dev.renewal.acme.AcmeSessions().session(profile))
              .getAccountLocation());
    } catch (org.shredzone.acme4j.exception.AcmeServerException e) {
      assertThat(e.getType().toString()).endsWith(":accountDoesNotExist");
      return java.util.Optional.empty();
    }
  }

  private static String publicKey(CertificateIssued c) throws Exception {
    X509Certificate leaf =
        (X509Certificate)
            CertificateFactory.getInstance("X.509")
                .generateCertificate(
                    new ByteArrayInputStream(c.getChainPem().getBytes(StandardCharsets.US_ASCII)));
    return java.util.HexFormat.of().formatHex(leaf.getPublicKey().getEncoded());
  }

  /**
   * Publishes a managed request for {@code dnsName} on profile pebble whose lifetime rule renews it
   * a second before it expires (so that only the test's cause renews it earlier); its id.
   */
  private static String publishRenewedLate(String dnsName) throws Exception {
    String id = UUID.randomUUID().toString();
    fx.keep(dev.renewal.topics.Publisher.create(fx.stack().clientProps(), "it"))
        .send(
            fx.topics().renewalRequested,
            id,
            dev.renewal.events.RenewalRequested.newBuilder(
                    StackFixture.request(id, ChallengeType.HTTP_01, "pebble", dnsName))
                .setRenewBefore("1s")
                .build())
        .get();
    return id;
  }

  /** Runs a `renewal` command in this JVM: exit code, output, errors. */
  private static String[] cli(String... args) {
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    var cli = RenewalCli.commandLine();
    cli.setOut(new java.io.PrintWriter(out));
    cli.setErr(new java.io.PrintWriter(err));
    int rc = cli.execute(args);
    return new String[] {String.valueOf(rc), out.toString(), err.toString()};
  }

  @Test
  void aCertificateIsRenewedTwiceByItselfAndAKilledSchedulerNeitherLosesNorRepeatsARenewal()
      throws Exception {
    PebbleServer ca = fx.pebble("short");
    Map<String, String> s = services(fx.settings(ca.directoryUrl(), ca.trustPem()));
    fx.keep(OrderServiceApp.start(Settings.of(s)));
    fx.keep(ChallengeServiceApp.start(Settings.of(s)));
    fx.keep(FinalizeServiceApp.start(Settings.of(s)));
    Path config = schedulerConfig();
    Path log = fx.dir().resolve("scheduler.log");
    Process scheduler = CliProcess.start(log, "scheduler-service", "--config", config.toString());
    try {
      String id = fx.publish(ChallengeType.HTTP_01, "renewed-twice.example");
      String name = "c-" + id.substring(0, 8);
      TopicReader reader = new TopicReader(fx.stack().clientProps());

      // The first certificate, then its first renewal (half of 40 s left: about 20 s later).
      List<CertificateIssued> two = awaitIssued(reader, name, 2, Duration.ofSeconds(90));
      assertThat(two.stream().map(CertificateIssued::getSerialNumber).distinct())
          .as(Files.readString(log))
          .hasSize(2);

      // Killed between the renewals, and started again with its instance id.
      scheduler.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      scheduler = CliProcess.start(log, "scheduler-service", "--config", config.toString());

      List<CertificateIssued> three = awaitIssued(reader, name, 3, Duration.ofSeconds(90));
      Set<String> serials =
          three.stream().map(CertificateIssued::getSerialNumber).collect(Collectors.toSet());
      assertThat(serials).as(Files.readString(log)).hasSize(3);

      // A new key each time (the default key policy), and each renewal renews the one before.
      Set<String> keys = new HashSet<>();
      List<X509Certificate> leaves = new ArrayList<>();
      for (CertificateIssued c : three) {
        X509Certificate leaf =
            (X509Certificate)
                CertificateFactory.getInstance("X.509")
                    .generateCertificate(
                        new ByteArrayInputStream(
                            c.getChainPem().getBytes(StandardCharsets.US_ASCII)));
        leaves.add(leaf);
        keys.add(java.util.HexFormat.of().formatHex(leaf.getPublicKey().getEncoded()));
        assertThat(Duration.between(c.getNotBefore(), c.getNotAfter()))
            .isLessThanOrEqualTo(LIFETIME);
      }
      assertThat(keys).hasSameSizeAs(serials);

      // Exactly one decision per renewal: no renewal lost or made twice across the restart.
      List<RenewalDue> due =
          reader.readAll(fx.topics().due, Duration.ofSeconds(10)).stream()
              .map(ConsumerRecord::value)
              .filter(d -> d.getCertificateName().equals(name))
              .toList();
      Set<String> renewalRequests =
          three.stream()
              .map(CertificateIssued::getRequestId)
              .filter(r -> !r.equals(id))
              .collect(Collectors.toSet());
      assertThat(due.stream().filter(d -> renewalRequests.contains(d.getRenewalRequestId())))
          .hasSize(2)
          .allSatisfy(d -> assertThat(d.getReason()).isEqualTo(DueReason.LIFETIME));
      assertThat(due.stream().map(RenewalDue::getRenewalRequestId).distinct().count())
          .as("no renewal decided twice")
          .isEqualTo(due.size());
      assertThat(due.stream().map(RenewalDue::getReplacesSerial).distinct().count())
          .as("each certificate renewed once")
          .isEqualTo(due.size());

      // The operator's view.
      String listing =
          CliProcess.run(
              fx.dir(),
              60,
              "certificates",
              "--set",
              "kafka.bootstrap.servers=" + fx.stack().bootstrapServers(),
              "--set",
              "registry.url=" + fx.stack().registryUrl(),
              "--set",
              "topics.prefix=" + fx.prefix());
      System.out.println(listing);
      for (CertificateIssued c : three) {
        System.out.printf(
            "issued %s serial %s valid %s .. %s%n",
            c.getOccurredAt(), c.getSerialNumber(), c.getNotBefore(), c.getNotAfter());
      }
      due.forEach(
          d ->
              System.out.printf(
                  "due %s at %s replaces %s%n",
                  d.getReason(), d.getOccurredAt(), d.getReplacesSerial()));
      assertThat(listing).contains(name).contains("renewed-twice.example").contains("pebble");
    } finally {
      scheduler.destroyForcibly();
    }
  }
}
