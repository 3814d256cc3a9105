package dev.renewal.scheduler.topology;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.contract.SampleEvents;
import dev.renewal.events.CertificateCommand;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.CertificateRevoked;
import dev.renewal.events.CommandAction;
import dev.renewal.events.DueReason;
import dev.renewal.events.ManagedCertificate;
import dev.renewal.events.RenewalDue;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalInfoObserved;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.RevocationReason;
import dev.renewal.events.RevocationRequested;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.registry.InMemorySchemaRegistryClient;
import dev.renewal.scheduler.domain.Inventory;
import dev.renewal.scheduler.domain.RenewalPolicy;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.testkit.streams.TopologyTestKit;
import dev.renewal.topics.TopicSettings;
import dev.renewal.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** scheduler-service's Streams application: the inventory and the renewals it decides. */
class SchedulerTopologyTest {
  private static final Instant START = Instant.parse("2026-12-01T10:00:00Z");
  private static final Duration LIFETIME = Duration.ofSeconds(60);

  private final AvroSerdes serdes = new AvroSerdes(new InMemorySchemaRegistryClient(), true);
  private final Topics topics = Topics.create(new TopicSettings("", 3, (short) 1, 1000), serdes);
  @TempDir Path state;
  private TopologyTestDriver driver;
  private TestInputTopic<String, RenewalRequested> requests;
  private TestInputTopic<String, CertificateIssued> issued;
  private TestInputTopic<String, CertificateCommand> commands;
  private TestInputTopic<String, RenewalFailed> failures;
  private TestInputTopic<String, RenewalInfoObserved> renewalInfo;
  private TestInputTopic<String, CertificateRevoked> revocations;
  private TestOutputTopic<String, RevocationRequested> revocationsAsked;
  private Inventory.Rules rules = Inventory.Rules.DEFAULT;
  private TestOutputTopic<String, ManagedCertificate> inventory;
  private TestOutputTopic<String, RenewalDue> due;
  private TestOutputTopic<String, RenewalRequested> renewals;
  private final List<RenewalDue> dueSeen = new ArrayList<>();
  private final List<RenewalRequested> renewalsSeen = new ArrayList<>();

  private final ServiceMetrics metrics = new ServiceMetrics("scheduler-service");
  private final SchedulerMetrics schedulerMetrics =
      new SchedulerMetrics(metrics, java.time.Clock.fixed(START, java.time.ZoneOffset.UTC));

  /** The value of the sample {@code series} (name and labels as Prometheus writes them). */
  private double sample(String series) {
    for (String line : metrics.scrape().split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim());
      }
    }
    throw new AssertionError("no sample " + series + " in:\n" + metrics.scrape());
  }

  private Topology topology() {
    return SchedulerTopology.build(
        new StreamsBuilder(), topics, serdes, rules, Duration.ofSeconds(1), schedulerMetrics);
  }

  @BeforeEach
  void start() {
    open(START);
  }

  private void open(Instant at) {
    open(at, StreamsConfig.EXACTLY_ONCE_V2);
  }

  private void open(Instant at, String guarantee) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "scheduler-test");
    props.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
    // As the service runs it: what cannot be decoded goes to the dead-letter topic.
    dev.renewal.runtime.StreamsApps.deadLetters(
        props, topics.streamsDlq.name(), dev.renewal.scheduler.SchedulerServiceApp.SERVICE);
    driver = TopologyTestKit.driver(topology(), guarantee, props, at);
    requests = TopologyTestKit.input(driver, topics.renewalRequested);
    issued = TopologyTestKit.input(driver, topics.certificateIssued);
    commands = TopologyTestKit.input(driver, topics.commands);
    failures = TopologyTestKit.input(driver, topics.renewalFailed);
    renewalInfo = TopologyTestKit.input(driver, topics.renewalInfo);
    revocations = TopologyTestKit.input(driver, topics.certificateRevoked);
    revocationsAsked = TopologyTestKit.output(driver, topics.revocationRequested);
    inventory = TopologyTestKit.output(driver, topics.inventory);
    due = TopologyTestKit.output(driver, topics.due);
    renewals = TopologyTestKit.output(driver, topics.renewalRequested);
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  private static RenewalRequested request(String name, String id, Instant at) {
    return RenewalRequested.newBuilder(SampleEvents.request())
        .setEventId("e-" + id)
        .setRequestId(id)
        .setOccurredAt(at)
        .setCertificateName(name)
        .setAttempt(1)
        .setReplayOf(null)
        .build();
  }

  private static CertificateIssued issue(RenewalRequested r, String serial, Instant notBefore) {
    return CertificateIssued.newBuilder(SampleEvents.certificateIssued())
        .setEventId("i-" + r.getRequestId())
        .setRequestId(r.getRequestId())
        .setCertificateName(r.getCertificateName())
        .setSerialNumber(serial)
        .setNotBefore(notBefore)
        .setNotAfter(notBefore.plus(LIFETIME))
        .setOccurredAt(notBefore)
        .setAttempt(r.getAttempt())
        .setCaProfile(r.getCaProfile())
        .build();
  }

  private void command(String name, CommandAction action) {
    commands.pipeInput(
        name,
        CertificateCommand.newBuilder()
            .setEventId("c-" + action)
            .setOccurredAt(driverNow())
            .setCertificateName(name)
            .setAction(action)
            .build());
  }

  private Instant now = START;

  private Instant driverNow() {
    return now;
  }

  private void advance(Duration d) {
    now = now.plus(d);
    driver.advanceWallClockTime(d);
  }

  /** Reads what was decided so far: the scheduler's RenewalDue and the requests it published. */
  private void read() {
    dueSeen.addAll(due.readValuesToList());
    renewalsSeen.addAll(renewals.readValuesToList());
  }

  private Map<String, ManagedCertificate> latestInventory() {
    return inventory.readKeyValuesToMap();
  }

  @Test
  void aManagedCertificateIsRenewedOnceWhenItsTimeComesAndAgainAfterItsRenewal() {
    RenewalRequested r = request("shop", "r1", START);
    requests.pipeInput(r.getRequestId(), r);
    issued.pipeInput(r.getRequestId(), issue(r, "0a", START));
    ManagedCertificate s = latestInventory().get("shop");
    assertThat(s.getCurrent().getSerialNumber()).isEqualTo("0a");
    Instant dueAt = s.getNextRenewalAt();
    assertThat(dueAt).isBetween(START.plusSeconds(28), START.plusSeconds(30));

    advance(Duration.ofSeconds(27));
    read();
    assertThat(dueSeen).isEmpty();
    advance(Duration.ofSeconds(4));
    read();
    assertThat(dueSeen).hasSize(1);
    RenewalDue first = dueSeen.get(0);
    assertThat(first.getReason()).isEqualTo(DueReason.LIFETIME);
    assertThat(first.getDueAt()).isEqualTo(dueAt);
    assertThat(first.getReplacesSerial()).isEqualTo("0a");
    assertThat(first.getCsr()).isFalse();
    assertThat(renewalsSeen).hasSize(1);
    RenewalRequested renewal = renewalsSeen.get(0);
    assertThat(renewal.getRequestId()).isEqualTo(first.getRenewalRequestId());
    assertThat(renewal.getRenews()).isEqualTo("0a");
    assertThat(renewal.getDnsNames()).isEqualTo(r.getDnsNames());
    ManagedCertificate renewing = latestInventory().get("shop");
    assertThat(Inventory.renewing(renewing)).isTrue();
    assertThat(renewing.getNextRenewalAt()).isNull();

    // In flight: not due again, however long it takes.
    advance(Duration.ofSeconds(60));
    read();
    assertThat(dueSeen).hasSize(1);

    // Its own request comes back through renewal.requested, then its certificate.
    requests.pipeInput(renewal.getRequestId(), renewal);
    issued.pipeInput(renewal.getRequestId(), issue(renewal, "0b", now));
    ManagedCertificate renewed = latestInventory().get("shop");
    assertThat(renewed.getCurrent().getSerialNumber()).isEqualTo("0b");
    advance(Duration.ofSeconds(31));
    read();
    assertThat(dueSeen).hasSize(2);
    assertThat(dueSeen.get(1).getReplacesSerial()).isEqualTo("0b");
  }

  private static CertificateRevoked revocation(
      CertificateIssued c, RevocationReason reason, Instant at) {
    return CertificateRevoked.newBuilder()
        .setEventId("v-" + c.getSerialNumber() + "-" + at.toEpochMilli())
        .setOccurredAt(at)
        .setRequestId(c.getRequestId())
        .setCertificateName(c.getCertificateName())
        .setSerialNumber(c.getSerialNumber())
        .setReason(reason)
        .setCaProfile("pebble")
        .setRevocationEventId("rr-" + c.getSerialNumber())
        .build();
  }

  @Test
  void aRevokedCurrentCertificateIsRenewedAtOnceAndOnceThoughConfirmedTwice() {
    RenewalRequested r = request("shop", "r1", START);
    requests.pipeInput(r.getRequestId(), r);
    CertificateIssued first = issue(r, "0a", START);
    issued.pipeInput(r.getRequestId(), first);
    advance(Duration.ofSeconds(5));
    revocations.pipeInput(
        r.getRequestId(), revocation(first, RevocationReason.KEY_COMPROMISE, now));
    ManagedCertificate s = latestInventory().get("shop");
    assertThat(s.getNextRenewalReason()).isEqualTo(DueReason.REVOKED);
    assertThat(s.getNextRenewalAt()).isEqualTo(now);
    assertThat(Inventory.currentRevocation(s).orElseThrow().getReason())
        .isEqualTo(RevocationReason.KEY_COMPROMISE);
    assertThat(sample("renewal_certificate_ready{name=\"shop\",service=\"scheduler-service\"}"))
        .isEqualTo(0.0);
    // the CA's alreadyRevoked answer to the same revocation asked again: nothing new
    revocations.pipeInput(
        r.getRequestId(), revocation(first, RevocationReason.KEY_COMPROMISE, now.plusMillis(300)));
    advance(Duration.ofSeconds(1));
    read();
    assertThat(dueSeen)
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.getReason()).isEqualTo(DueReason.REVOKED);
              assertThat(d.getReplacesSerial()).isEqualTo("0a");
            });
    assertThat(renewalsSeen).hasSize(1);
    assertThat(renewalsSeen.get(0).getRenews()).isEqualTo("0a");
    assertThat(
            sample(
                "renewal_certificates_revoked_total{reason=\"key_compromise\",service=\"scheduler-service\"}"))
        .isEqualTo(1.0);

    // renewed: the new certificate is not revoked, and is due by its lifetime again
    RenewalRequested renewal = renewalsSeen.get(0);
    requests.pipeInput(renewal.getRequestId(), renewal);
    issued.pipeInput(renewal.getRequestId(), issue(renewal, "0b", now));
    ManagedCertificate renewed = latestInventory().get("shop");
    assertThat(Inventory.currentRevocation(renewed)).isEmpty();
    assertThat(renewed.getNextRenewalReason()).isEqualTo(DueReason.LIFETIME);
    assertThat(renewed.getRevocations()).extracting(x -> x.getSerialNumber()).containsExactly("0a");
  }

  @Test
  void aRevocationReadBeforeItsIssuanceStillCountsAndCessationUnmanages() {
    RenewalRequested r = request("shop", "r1", START);
    requests.pipeInput(r.getRequestId(), r);
    CertificateIssued first = issue(r, "0a", START);
    // out of order, as when the topics are read again from the start
    revocations.pipeInput(
        r.getRequestId(), revocation(first, RevocationReason.UNSPECIFIED, START.plusSeconds(1)));
    issued.pipeInput(r.getRequestId(), first);
    assertThat(latestInventory().get("shop").getNextRenewalReason()).isEqualTo(DueReason.REVOKED);

    RenewalRequested other = request("blog", "r2", START);
    requests.pipeInput(other.getRequestId(), other);
    CertificateIssued blog = issue(other, "0c", START);
    issued.pipeInput(other.getRequestId(), blog);
    revocations.pipeInput(
        other.getRequestId(),
        revocation(blog, RevocationReason.CESSATION_OF_OPERATION, START.plusSeconds(2)));
    ManagedCertificate ceased = latestInventory().get("blog");
    assertThat(ceased.getManaged()).isFalse();
    assertThat(ceased.getNextRenewalAt()).isNull();
    advance(Duration.ofSeconds(90));
    read();
    assertThat(dueSeen).extracting(RenewalDue::getCertificateName).doesNotContain("blog");
  }

  @Test
  void withRevokeSupersededTheCertificateARenewalReplacedIsRevokedOnce() {
    driver.close();
    rules = p -> RenewalPolicy.DEFAULT.withRevokeSuperseded(p.equals("pebble"));
    open(START);
    RenewalRequested r = request("shop", "r1", START);
    requests.pipeInput(r.getRequestId(), r);
    issued.pipeInput(r.getRequestId(), issue(r, "0a", START));
    assertThat(revocationsAsked.readValuesToList()).as("nothing superseded yet").isEmpty();
    advance(Duration.ofSeconds(31));
    read();
    RenewalRequested renewal = renewalsSeen.get(0);
    requests.pipeInput(renewal.getRequestId(), renewal);
    CertificateIssued second = issue(renewal, "0b", now);
    issued.pipeInput(renewal.getRequestId(), second);
    issued.pipeInput(renewal.getRequestId(), second); // announced twice (at least once)
    List<org.apache.kafka.streams.test.TestRecord<String, RevocationRequested>> asked =
        revocationsAsked.readRecordsToList();
    assertThat(asked).hasSize(1);
    assertThat(asked.get(0).key()).as("keyed by the request that issued it").isEqualTo("r1");
    RevocationRequested v = asked.get(0).value();
    assertThat(v.getSerialNumber()).isEqualTo("0a");
    assertThat(v.getCertificateName()).isEqualTo("shop");
    assertThat(v.getReason()).isEqualTo(RevocationReason.SUPERSEDED);
    assertThat(v.getRequestedBy()).isEqualTo("scheduler-service");
    // its confirmation is folded, and the current certificate is not touched
    revocations.pipeInput(
        "r1", revocation(issue(r, "0a", START), RevocationReason.SUPERSEDED, now));
    ManagedCertificate s = latestInventory().get("shop");
    assertThat(s.getNextRenewalReason()).isEqualTo(DueReason.LIFETIME);
    assertThat(s.getRevocations()).extracting(x -> x.getSerialNumber()).containsExactly("0a");
  }

  private static RenewalFailed failure(RenewalRequested r, Instant at, String problemType) {
    return RenewalFailed.newBuilder(SampleEvents.renewalFailed())
        .setEventId("f-" + r.getRequestId() + "-" + r.getAttempt())
        .setRequestId(r.getRequestId())
        .setOccurredAt(at)
        .setRetryable(true)
        .setProblem(
            dev.renewal.events.Problem.newBuilder(SampleEvents.renewalFailed().getProblem())
                .setType(problemType)
                .build())
        .setRequest(r)
        .build();
  }

  @Test
  void aFailedRenewalFallsBackOnceThenRetriesOnceAndAnOperatorsReplayIsNotDoubled() {
    driver.close();
    RenewalPolicy pebble =
        new RenewalPolicy(
            java.util.Optional.empty(),
            Duration.ofSeconds(10),
            Duration.ofSeconds(80),
            java.util.Optional.of(Duration.ofSeconds(1)),
            List.of("backup"),
            2);
    rules = p -> p.equals("pebble") ? pebble : RenewalPolicy.DEFAULT;
    open(START);
    RenewalRequested r = request("shop", "r1", START);
    assertThat(r.getCaProfile()).isEqualTo("pebble");
    requests.pipeInput(r.getRequestId(), r);
    issued.pipeInput(r.getRequestId(), issue(r, "0a", START));
    advance(Duration.ofSeconds(31));
    read();
    assertThat(renewalsSeen).hasSize(1);
    RenewalRequested renewal = renewalsSeen.get(0);
    requests.pipeInput(renewal.getRequestId(), renewal);

    // The CA is down: the next profile, at once.
    failures.pipeInput(
        renewal.getRequestId(), failure(renewal, now, "urn:renewal:problem:network"));
    advance(Duration.ofSeconds(1));
    read();
    assertThat(dueSeen).hasSize(2);
    RenewalDue fallback = dueSeen.get(1);
    assertThat(fallback.getReason()).isEqualTo(DueReason.FALLBACK);
    assertThat(fallback.getCaProfile()).isEqualTo("backup");
    assertThat(fallback.getFallbackFrom()).isEqualTo("pebble");
    assertThat(fallback.getAttempt()).isEqualTo(2);
    assertThat(fallback.getReplayOf()).isEqualTo("f-" + renewal.getRequestId() + "-1");
    RenewalRequested second = renewalsSeen.get(1);
    assertThat(second.getRequestId()).isEqualTo(renewal.getRequestId());
    assertThat(second.getAttempt()).isEqualTo(2);
    assertThat(second.getCaProfile()).isEqualTo("backup");
    assertThat(second.getReplayOf()).isEqualTo(fallback.getReplayOf());
    assertThat(second.getRenews()).isEqualTo("0a");
    advance(Duration.ofSeconds(30));
    read();
    assertThat(dueSeen).as("decided once").hasSize(2);

    // A timeout on backup: retried there, after the series' second back-off (20 s, less the
    // jitter), once.
    requests.pipeInput(second.getRequestId(), second);
    Instant failedAt = now;
    failures.pipeInput(
        second.getRequestId(),
        failure(second, failedAt, "urn:renewal:problem:authorization-timeout"));
    ManagedCertificate failing = latestInventory().get("shop");
    assertThat(failing.getNextRenewalReason()).isEqualTo(DueReason.RETRY);
    assertThat(failing.getNextRenewalProfile()).isEqualTo("backup");
    assertThat(failing.getNextRenewalAt())
        .isBetween(failedAt.plusSeconds(18), failedAt.plusSeconds(20));
    advance(Duration.ofSeconds(21));
    read();
    assertThat(dueSeen).hasSize(3);
    assertThat(dueSeen.get(2).getReason()).isEqualTo(DueReason.RETRY);
    assertThat(renewalsSeen.get(2).getAttempt()).isEqualTo(3);
    assertThat(renewalsSeen.get(2).getCaProfile()).isEqualTo("backup");
    RenewalRequested third = renewalsSeen.get(2);

    // That one fails too, and an operator replays it before the scheduler's time comes: the
    // replay is the next attempt, the scheduler's retry does not come.
    requests.pipeInput(third.getRequestId(), third);
    failures.pipeInput(
        third.getRequestId(), failure(third, now, "urn:renewal:problem:authorization-timeout"));
    assertThat(latestInventory().get("shop").getNextRenewalReason())
        .as("the second failure in a row on backup: back to pebble")
        .isEqualTo(DueReason.FALLBACK);
    RenewalRequested replay =
        RenewalRequested.newBuilder(third)
            .setEventId("e-operator")
            .setAttempt(4)
            .setReplayOf("f-" + third.getRequestId() + "-3")
            .setOccurredAt(now)
            .build();
    requests.pipeInput(replay.getRequestId(), replay);
    assertThat(latestInventory().get("shop").getNextRenewalAt()).isNull();
    advance(Duration.ofSeconds(60));
    read();
    assertThat(dueSeen).as("no retry next to the operator's replay").hasSize(3);

    issued.pipeInput(replay.getRequestId(), issue(replay, "0b", now));
    ManagedCertificate renewed = latestInventory().get("shop");
    assertThat(renewed.getCurrent().getCaProfile()).isEqualTo("backup");
    assertThat(renewed.getConsecutiveFailures()).isZero();
    assertThat(renewed.getNextRenewalReason()).isEqualTo(DueReason.LIFETIME);
    assertThat(renewed.getNextRenewalProfile())
        .as("the next regular renewal starts from the request's profile")
        .isEqualTo("pebble");
  }

  private RenewalInfoObserved window(String ariCertId, Instant start, Instant end) {
    return RenewalInfoObserved.newBuilder()
        .setEventId("ri-" + now + "-" + start)
        .setOccurredAt(now)
        .setCertificateName("shop")
        .setCaProfile("pebble")
        .setSerialNumber("0a")
        .setAriCertId(ariCertId)
        .setWindowStart(start)
        .setWindowEnd(end)
        .setExplanationUrl("https://ca.example/incident-42")
        .setNextFetchAt(now.plusSeconds(60))
        .build();
  }

  @Test
  void aRenewalWindowMovesTheDueTimeAndAWindowMovedIntoThePastRenewsAtOnce() {
    RenewalRequested r = request("shop", "r1", START);
    requests.pipeInput(r.getRequestId(), r);
    CertificateIssued c = issue(r, "0a", START);
    issued.pipeInput(r.getRequestId(), c);
    String id = c.getAriCertId();
    assertThat(id).isNotNull();

    // The CA suggests 40..50 s: later than the lifetime rule's 30 s.
    renewalInfo.pipeInput("shop", window(id, START.plusSeconds(40), START.plusSeconds(50)));
    ManagedCertificate s = latestInventory().get("shop");
    assertThat(s.getNextRenewalReason()).isEqualTo(DueReason.ARI_WINDOW);
    assertThat(s.getNextRenewalAt()).isBetween(START.plusSeconds(40), START.plusSeconds(50));
    advance(Duration.ofSeconds(35));
    read();
    assertThat(dueSeen).as("the window, not the lifetime, decides").isEmpty();

    // A mass revocation: the window moves into the past; renewed at the next punctuation.
    renewalInfo.pipeInput("shop", window(id, START.minusSeconds(20), START.minusSeconds(10)));
    advance(Duration.ofSeconds(1));
    read();
    assertThat(dueSeen).hasSize(1);
    RenewalDue due = dueSeen.get(0);
    assertThat(due.getReason()).isEqualTo(DueReason.ARI_WINDOW_PASSED);
    assertThat(due.getExplanationUrl()).isEqualTo("https://ca.example/incident-42");
    assertThat(renewalsSeen).hasSize(1);
    assertThat(renewalsSeen.get(0).getReplaces()).isEqualTo(id);
    advance(Duration.ofSeconds(20));
    read();
    assertThat(dueSeen).as("once").hasSize(1);
  }

  @Test
  void theMetricsShowEachCertificatesExpiryNextRenewalAndReadiness() {
    RenewalRequested r = request("shop", "r1", START);
    requests.pipeInput(r.getRequestId(), r);
    issued.pipeInput(r.getRequestId(), issue(r, "0a", START));
    ManagedCertificate s = latestInventory().get("shop");
    String shop = "{name=\"shop\",service=\"scheduler-service\"}";
    assertThat(sample("renewal_certificate_expiration_timestamp_seconds" + shop))
        .isEqualTo(START.plus(LIFETIME).toEpochMilli() / 1000.0);
    assertThat(sample("renewal_certificate_renewal_timestamp_seconds" + shop))
        .isEqualTo(s.getNextRenewalAt().toEpochMilli() / 1000.0);
    assertThat(sample("renewal_certificate_ready" + shop)).isEqualTo(1.0);
    String state = "renewal_certificates{service=\"scheduler-service\",state=";
    assertThat(sample(state + "\"managed\"}")).isEqualTo(1.0);
    assertThat(sample(state + "\"renewing\"}")).isEqualTo(0.0);
    advance(Duration.ofSeconds(31));
    assertThat(sample(state + "\"renewing\"}")).isEqualTo(1.0);
    assertThat(
            sample("renewal_renewals_due_total{reason=\"lifetime\",service=\"scheduler-service\"}"))
        .isEqualTo(1.0);
    // No next renewal while it is renewed: the sample reads NaN, not an old time.
    assertThat(sample("renewal_certificate_renewal_timestamp_seconds" + shop)).isNaN();
  }

  @Test
  void anUnmanagedCertificateIsNotRenewed() {
    RenewalRequested r = request("shop", "r1", START);
    requests.pipeInput(r.getRequestId(), r);
    issued.pipeInput(r.getRequestId(), issue(r, "0a", START));
    advance(Duration.ofSeconds(1));
    command("shop", CommandAction.UNMANAGE);
    assertThat(latestInventory().get("shop").getManaged()).isFalse();
    advance(Duration.ofSeconds(120));
    read();
    assertThat(dueSeen).isEmpty();
    assertThat(renewalsSeen).isEmpty();
  }

  @Test
  void aCsrCertificateGetsRenewalDueOnlyOnceUntilItsKeyHolderAnswers() {
    RenewalRequested r =
        RenewalRequested.newBuilder(request("csr", "r1", START))
            .setCsrPem("-----BEGIN CERTIFICATE REQUEST-----")
            .build();
    requests.pipeInput(r.getRequestId(), r);
    issued.pipeInput(r.getRequestId(), issue(r, "0a", START));
    advance(Duration.ofSeconds(31));
    advance(Duration.ofSeconds(60));
    read();
    assertThat(dueSeen).hasSize(1);
    assertThat(dueSeen.get(0).getCsr()).isTrue();
    assertThat(dueSeen.get(0).getRenewalRequestId()).isNull();
    assertThat(renewalsSeen).isEmpty();
  }

  @Test
  void renewNowIsManualAndOnceWhileInFlight() {
    RenewalRequested r = request("shop", "r1", START);
    requests.pipeInput(r.getRequestId(), r);
    issued.pipeInput(r.getRequestId(), issue(r, "0a", START));
    command("shop", CommandAction.RENEW);
    command("shop", CommandAction.RENEW);
    command("unknown", CommandAction.RENEW);
    read();
    assertThat(dueSeen).extracting(RenewalDue::getReason).containsExactly(DueReason.MANUAL);
    assertThat(renewalsSeen).hasSize(1);
    // And not again by its lifetime while that renewal is in flight.
    advance(Duration.ofSeconds(61));
    read();
    assertThat(dueSeen).hasSize(1);
  }

  @Test
  void theInventoryIsTheSameWhateverTheOrderOfItsEvents() {
    RenewalRequested r1 = request("shop", "r1", START);
    RenewalRequested r2 = request("shop", "r2", START.plusSeconds(5));
    CertificateIssued c1 = issue(r1, "0a", START);
    requests.pipeInput(r1.getRequestId(), r1);
    issued.pipeInput(r1.getRequestId(), c1);
    requests.pipeInput(r2.getRequestId(), r2);
    ManagedCertificate inOrder = latestInventory().get("shop");

    issued.pipeInput(r1.getRequestId(), c1);
    requests.pipeInput(r2.getRequestId(), r2);
    requests.pipeInput(r1.getRequestId(), r1);
    requests.pipeInput(r1.getRequestId(), r1);
    requests.pipeInput("other-" + r2.getRequestId(), request("other", "o1", START));
    // Duplicates change nothing: no new inventory record for shop.
    assertThat(latestInventory()).doesNotContainKey("shop").containsKey("other");
    assertThat(inOrder.getRequest().getRequestId()).isEqualTo("r2");
  }

  @Test
  void aRecordThatCannotBeDecodedOnAnyInputIsDeadLetteredAndTheInventoryGoesOn() {
    // The test driver keeps no record the deserialization handler sends under its simulated
    // exactly-once (on a real broker the reconciliation's are kept: AcmeQuirksIT's garbage test);
    // the handler and its configuration are the service's either way.
    driver.close();
    open(START, StreamsConfig.AT_LEAST_ONCE);
    byte[] poison = new byte[64];
    new java.util.Random(7).nextBytes(poison);
    poison[0] = (byte) 0xa5;
    List<String> inputs =
        List.of(
            topics.renewalRequested.name(),
            topics.certificateIssued.name(),
            topics.renewalFailed.name(),
            topics.commands.name(),
            topics.renewalInfo.name(),
            topics.certificateRevoked.name());
    for (String topic : inputs) {
      driver
          .createInputTopic(
              topic,
              new org.apache.kafka.common.serialization.StringSerializer(),
              new org.apache.kafka.common.serialization.ByteArraySerializer())
          .pipeInput("garbage", poison);
    }
    RenewalRequested r = request("shop", "r1", START);
    requests.pipeInput(r.getRequestId(), r);
    assertThat(latestInventory()).containsKey("shop");
    var dlq =
        driver
            .createOutputTopic(
                topics.streamsDlq.name(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())
            .readRecordsToList();
    assertThat(dlq).hasSize(inputs.size()).allSatisfy(d -> assertThat(d.value()).isEqualTo(poison));
  }

  @Test
  void theTopologyIsTheGoldenOne() throws Exception {
    String described = TopologyTestKit.assertUnchanged(topology(), "scheduler-topology.txt");
    assertThat(described).contains(SchedulerTopology.STORE).contains("by-name-repartition");
  }
}
