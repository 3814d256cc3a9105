package dev.renewal.finalize.topology;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.events.AcmeStatus;
import dev.renewal.events.AuthorizationObserved;
import dev.renewal.events.AuthorizationReconciled;
import dev.renewal.events.ChallengeObserved;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.Decision;
import dev.renewal.events.ObservationSource;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.OrderReady;
import dev.renewal.events.Problem;
import dev.renewal.events.ReconciliationState;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.Stage;
import dev.renewal.finalize.domain.Reconciliation;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.registry.InMemorySchemaRegistryClient;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.topics.TopicSettings;
import dev.renewal.topics.Topics;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every reconciliation rule, with the events in both orders, duplicates, replays and the grace
 * deadline.
 */
class ReconciliationTopologyTest {
  static final String REQUEST = "5b1d7c4e-0000-4000-8000-000000000001";
  static final String ORDER = "https://ca.example/order/1";
  static final String A1 = "https://ca.example/authz/1";
  static final String A2 = "https://ca.example/authz/2";
  static final Duration GRACE = Duration.ofSeconds(30);

  private final AvroSerdes serdes = new AvroSerdes(new InMemorySchemaRegistryClient(), true);
  private final Topics topics = Topics.create(new TopicSettings("", 3, (short) 1, 1000), serdes);
  private TopologyTestDriver driver;
  private TestInputTopic<String, OrderPlaced> orders;
  private TestInputTopic<String, ChallengeObserved> challenges;
  private TestInputTopic<String, AuthorizationObserved> authorizations;
  private TestOutputTopic<String, AuthorizationReconciled> reconciled;
  private TestOutputTopic<String, OrderReady> ready;
  private TestOutputTopic<String, RenewalFailed> failed;

  static final Duration RETENTION = Duration.ofHours(1);

  static Topology topology(Topics topics, AvroSerdes serdes) {
    return ReconciliationTopology.build(
        new StreamsBuilder(),
        topics,
        serdes,
        GRACE,
        Duration.ofSeconds(1),
        RETENTION,
        new ServiceMetrics("finalize-service"),
        ReconciliationTopology.DEFAULT_COMMIT_INTERVAL);
  }

  @BeforeEach
  void start() {
    driver = TopologyTests.driver(topology(topics, serdes), StreamsConfig.EXACTLY_ONCE_V2);
    orders = TopologyTests.input(driver, topics.orderPlaced);
    challenges = TopologyTests.input(driver, topics.challengeObserved);
    authorizations = TopologyTests.input(driver, topics.authorizationObserved);
    reconciled = TopologyTests.output(driver, topics.authorizationReconciled);
    ready = TopologyTests.output(driver, topics.orderReady);
    failed = TopologyTests.output(driver, topics.renewalFailed);
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  static OrderPlaced order(AcmeStatus status, String... authzs) {
    return OrderPlaced.newBuilder()
        .setEventId(UUID.randomUUID().toString())
        .setRequestId(REQUEST)
        .setOccurredAt(Instant.EPOCH)
        .setRequest(
            RenewalRequested.newBuilder()
                .setEventId("e")
                .setRequestId(REQUEST)
                .setOccurredAt(Instant.EPOCH)
                .setCertificateName("shop")
                .setDnsNames(List.of("shop.example"))
                .build())
        .setAccountUrl("https://ca.example/acct/1")
        .setOrderUrl(ORDER)
        .setFinalizeUrl(ORDER + "/finalize")
        .setAuthorizationUrls(List.of(authzs))
        .setOrderStatus(status)
        .build();
  }

  static ChallengeObserved challengeObserved(String authz, AcmeStatus status) {
    return ChallengeObserved.newBuilder()
        .setEventId(UUID.randomUUID().toString())
        .setRequestId(REQUEST)
        .setOccurredAt(Instant.EPOCH)
        .setOrderUrl(ORDER)
        .setAuthorizationUrl(authz)
        .setChallengeUrl(authz + "/chal")
        .setChallengeType(ChallengeType.HTTP_01)
        .setIdentifier("shop.example")
        .setStatus(status)
        .setSource(ObservationSource.TRIGGER_RESPONSE)
        .setProblem(
            status == AcmeStatus.INVALID
                ? Problem.newBuilder()
                    .setType("urn:ietf:params:acme:error:incorrectResponse")
                    .setDetail("said invalid")
                    .build()
                : null)
        .build();
  }

  static AuthorizationObserved authorizationObserved(String authz, AcmeStatus status) {
    return AuthorizationObserved.newBuilder()
        .setEventId(UUID.randomUUID().toString())
        .setRequestId(REQUEST)
        .setOccurredAt(Instant.EPOCH)
        .setOrderUrl(ORDER)
        .setAuthorizationUrl(authz)
        .setIdentifier("shop.example")
        .setStatus(status)
        .setSource(ObservationSource.POLL)
        .setProblem(
            status == AcmeStatus.INVALID
                ? Problem.newBuilder()
                    .setType("urn:ietf:params:acme:error:unauthorized")
                    .setDetail("token mismatch")
                    .build()
                : null)
        .build();
  }

  private void order(OrderPlaced o) {
    orders.pipeInput(REQUEST, o);
  }

  private void challenge(String authz, AcmeStatus s) {
    challenges.pipeInput(REQUEST, challengeObserved(authz, s));
  }

  private void authorization(String authz, AcmeStatus s) {
    authorizations.pipeInput(REQUEST, authorizationObserved(authz, s));
  }

  @Test
  void challengeInvalidThenAuthorizationValidIsValidWithAContradictionAndTheOrderIsReady() {
    order(order(AcmeStatus.PENDING, A1));
    challenge(A1, AcmeStatus.INVALID);
    authorization(A1, AcmeStatus.VALID);

    List<AuthorizationReconciled> decisions = reconciled.readValuesToList();
    assertThat(decisions)
        .extracting(AuthorizationReconciled::getDecision)
        .containsExactly(Decision.WAITING, Decision.VALID);
    assertThat(decisions.get(1).getContradiction()).isTrue();
    assertThat(decisions.get(1).getChallengeStatus()).isEqualTo(AcmeStatus.INVALID);
    assertThat(decisions.get(1).getAuthorizationStatus()).isEqualTo(AcmeStatus.VALID);
    OrderReady r = ready.readValue();
    assertThat(r.getPlaced().getOrderUrl()).isEqualTo(ORDER);
    assertThat(r.getContradictions()).isEqualTo(1);
    assertThat(failed.isEmpty()).isTrue();
  }

  @Test
  void authorizationValidBeforeTheLateInvalidChallengeAnswerIsStillValidAndFlagged() {
    authorization(A1, AcmeStatus.VALID);
    challenge(A1, AcmeStatus.INVALID);
    order(order(AcmeStatus.PENDING, A1));

    List<AuthorizationReconciled> decisions = reconciled.readValuesToList();
    assertThat(decisions)
        .extracting(AuthorizationReconciled::getDecision)
        .containsExactly(Decision.VALID);
    assertThat(decisions.get(0).getContradiction())
        .as("decided before the late answer arrived")
        .isFalse();
    assertThat(ready.readValuesToList()).hasSize(1);
  }

  @Test
  void theOrderIsReadyOnlyWhenEveryAuthorizationIsValidInAnyArrivalOrder() {
    authorization(A2, AcmeStatus.VALID);
    order(order(AcmeStatus.PENDING, A1, A2));
    assertThat(ready.isEmpty()).isTrue();
    authorization(A1, AcmeStatus.PENDING);
    assertThat(ready.isEmpty()).isTrue();
    authorization(A1, AcmeStatus.VALID);
    assertThat(ready.readValuesToList()).hasSize(1);
    assertThat(reconciled.readValuesToList())
        .extracting(AuthorizationReconciled::getAuthorizationUrl)
        .containsExactly(A2, A1);
  }

  @Test
  void anInvalidAuthorizationFailsTheOrderWithTheCasProblem() {
    order(order(AcmeStatus.PENDING, A1, A2));
    authorization(A2, AcmeStatus.VALID);
    authorization(A1, AcmeStatus.INVALID);

    AuthorizationReconciled decision = reconciled.readValuesToList().get(1);
    assertThat(decision.getDecision()).isEqualTo(Decision.FAILED);
    assertThat(decision.getProblem().getType())
        .isEqualTo("urn:ietf:params:acme:error:unauthorized");
    RenewalFailed f = failed.readValue();
    assertThat(f.getStage()).isEqualTo(Stage.AUTHORIZATION);
    assertThat(f.getAuthorizationUrl()).isEqualTo(A1);
    assertThat(f.getProblem().getDetail()).isEqualTo("token mismatch");
    assertThat(f.getRetryable()).isFalse();
    assertThat(f.getRequest().getRequestId()).isEqualTo(REQUEST);
    assertThat(ready.isEmpty()).isTrue();
  }

  @Test
  void everyTerminalBadStatusFails() {
    for (AcmeStatus s :
        List.of(
            AcmeStatus.DEACTIVATED, AcmeStatus.EXPIRED, AcmeStatus.REVOKED, AcmeStatus.TIMED_OUT)) {
      String url = A1 + "/" + s;
      authorization(url, s);
      AuthorizationReconciled d = reconciled.readValue();
      assertThat(d.getDecision()).as(s.toString()).isEqualTo(Decision.FAILED);
    }
  }

  @Test
  void aTimedOutAuthorizationFailsTheOrderAsRetryable() {
    order(order(AcmeStatus.PENDING, A1));
    authorization(A1, AcmeStatus.TIMED_OUT);
    assertThat(failed.readValue().getRetryable()).isTrue();
  }

  @Test
  void challengeInvalidWithTheAuthorizationPendingWaitsThenFailsWhenTheGracePasses() {
    order(order(AcmeStatus.PENDING, A1));
    challenge(A1, AcmeStatus.INVALID);
    authorization(A1, AcmeStatus.PENDING);
    assertThat(reconciled.readValuesToList())
        .extracting(AuthorizationReconciled::getDecision)
        .containsExactly(Decision.WAITING);

    driver.advanceWallClockTime(GRACE.minusSeconds(5));
    assertThat(reconciled.isEmpty()).as("still within the grace period").isTrue();
    assertThat(failed.isEmpty()).isTrue();

    driver.advanceWallClockTime(Duration.ofSeconds(6));
    AuthorizationReconciled d = reconciled.readValue();
    assertThat(d.getDecision()).isEqualTo(Decision.FAILED);
    assertThat(d.getProblem().getType()).isEqualTo(Reconciliation.GRACE_EXPIRED);
    assertThat(d.getReason()).contains("never became valid");
    RenewalFailed f = failed.readValue();
    assertThat(f.getProblem().getType()).isEqualTo(Reconciliation.GRACE_EXPIRED);
    assertThat(f.getRetryable()).isTrue();
  }

  @Test
  void theAuthorizationTurningValidWithinTheGraceWins() {
    order(order(AcmeStatus.PENDING, A1));
    challenge(A1, AcmeStatus.INVALID);
    driver.advanceWallClockTime(GRACE.minusSeconds(1));
    authorization(A1, AcmeStatus.VALID);
    driver.advanceWallClockTime(GRACE);
    assertThat(reconciled.readValuesToList())
        .extracting(AuthorizationReconciled::getDecision)
        .containsExactly(Decision.WAITING, Decision.VALID);
    assertThat(failed.isEmpty()).isTrue();
    assertThat(ready.readValuesToList()).hasSize(1);
  }

  private ReconciliationState stored() {
    KeyValueStore<String, ReconciliationState> store =
        driver.getKeyValueStore(ReconciliationTopology.STORE);
    return store.get(REQUEST);
  }

  @Test
  void aRequestsStateIsDeletedOnceUnchangedForTheRetentionAndAReplayIsDecidedAfresh() {
    order(order(AcmeStatus.PENDING, A1));
    authorization(A1, AcmeStatus.VALID);
    assertThat(ready.readValuesToList()).hasSize(1);
    assertThat(stored()).isNotNull();
    assertThat(stored().getUpdatedAt()).isNotNull();

    driver.advanceWallClockTime(RETENTION.minusMinutes(10));
    assertThat(stored()).as("kept within the retention").isNotNull();
    driver.advanceWallClockTime(Duration.ofMinutes(20));
    assertThat(stored()).as("deleted once unchanged for the retention").isNull();

    // A replay afterwards (attempt 2, a new order) is reconciled on its own.
    OrderPlaced second = order(AcmeStatus.PENDING, A2);
    second.getRequest().setAttempt(2);
    second.setOrderUrl(ORDER + "-2");
    order(second);
    authorization(A2, AcmeStatus.VALID);
    assertThat(ready.readValuesToList())
        .extracting(r -> r.getPlaced().getOrderUrl())
        .containsExactly(ORDER + "-2");
  }

  @Test
  void aStateThatKeepsChangingIsKeptPastTheRetention() {
    order(order(AcmeStatus.PENDING, A1, A2));
    for (int i = 0; i < 6; i++) {
      driver.advanceWallClockTime(RETENTION.dividedBy(3));
      authorization(A1, AcmeStatus.PENDING);
    }
    assertThat(stored()).as("two retentions later, changed every third of one").isNotNull();
    authorization(A1, AcmeStatus.VALID);
    authorization(A2, AcmeStatus.VALID);
    assertThat(ready.readValuesToList()).hasSize(1);
  }

  @Test
  void theSweepRunsEveryTenthOfTheRetentionBetweenOneSecondAndOneHour() {
    assertThat(Reconciler.sweepEvery(Duration.ofDays(7))).isEqualTo(Duration.ofHours(1));
    assertThat(Reconciler.sweepEvery(Duration.ofHours(1))).isEqualTo(Duration.ofMinutes(6));
    assertThat(Reconciler.sweepEvery(Duration.ofSeconds(5))).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void duplicatesAndReplaysGiveNoSecondDecision() {
    order(order(AcmeStatus.PENDING, A1));
    authorization(A1, AcmeStatus.VALID);
    // The same observations again (a replay), and a duplicate announcement of the order.
    authorization(A1, AcmeStatus.VALID);
    challenge(A1, AcmeStatus.VALID);
    order(order(AcmeStatus.PENDING, A1));
    authorization(A1, AcmeStatus.INVALID);
    assertThat(reconciled.readValuesToList())
        .extracting(AuthorizationReconciled::getDecision)
        .containsExactly(Decision.VALID);
    assertThat(ready.readValuesToList()).hasSize(1);
    assertThat(failed.isEmpty()).isTrue();
  }

  @Test
  void anOrderAlreadyReadyIsReadyWithoutAnyObservation() {
    order(order(AcmeStatus.READY, A1, A2));
    assertThat(ready.readValuesToList()).hasSize(1);
    assertThat(reconciled.isEmpty()).isTrue();
  }

  @Test
  void aReplayedRequestsNewOrderIsReconciledOnItsOwn() {
    order(order(AcmeStatus.PENDING, A1));
    authorization(A1, AcmeStatus.INVALID);
    assertThat(failed.readValuesToList()).hasSize(1);

    OrderPlaced second = order(AcmeStatus.PENDING, A2);
    second.setOrderUrl(ORDER + "/attempt-2");
    second.getRequest().setAttempt(2);
    order(second);
    authorization(A2, AcmeStatus.VALID);
    List<OrderReady> readies = ready.readValuesToList();
    assertThat(readies).hasSize(1);
    assertThat(readies.get(0).getPlaced().getOrderUrl()).isEqualTo(ORDER + "/attempt-2");
    // The first attempt's announcement again (a duplicate) changes nothing.
    order(order(AcmeStatus.PENDING, A1));
    assertThat(ready.isEmpty()).isTrue();
    assertThat(failed.isEmpty()).isTrue();
  }

  @Test
  void theTopologyIsUnchanged() throws IOException {
    String described =
        TopologyTests.assertUnchanged(topology(topics, serdes), "reconciliation-topology.txt");
    // Observations arrive keyed by request id: no repartition topic, one sub-topology.
    assertThat(described)
        .contains(ReconciliationTopology.STORE)
        .doesNotContain(StatusViewTopology.STORE)
        .doesNotContain(Topics.STATUS)
        .doesNotContain("repartition")
        .doesNotContain("Sub-topology: 1");
  }
}
