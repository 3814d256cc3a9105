package dev.renewal.challenge.handler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.renewal.acme.CaProfile;
import dev.renewal.acme.CaProfiles;
import dev.renewal.acme.PollPolicy;
import dev.renewal.challenge.acme.AuthorizationGateway;
import dev.renewal.challenge.domain.AuthorizationStep;
import dev.renewal.challenge.domain.AuthorizationView;
import dev.renewal.challenge.domain.ChallengeView;
import dev.renewal.challenge.domain.Views;
import dev.renewal.challenge.provision.ChallengeResponses;
import dev.renewal.challenge.provision.Provisioner;
import dev.renewal.contract.RenewalFailures;
import dev.renewal.events.AcmeStatus;
import dev.renewal.events.AuthorizationObserved;
import dev.renewal.events.AuthorizationWork;
import dev.renewal.events.AuthorizationWorkState;
import dev.renewal.events.ChallengeObserved;
import dev.renewal.events.ChallengeRecord;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.ObservationSource;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.Problem;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.Stage;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.testkit.HandlerFixture;
import dev.renewal.testkit.StackFixture;
import dev.renewal.topics.CompactedStore;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeNetworkException;

/**
 * One order's authorizations through the handler against a scripted CA: each test says which calls
 * the CA will get and what it answers; any other call fails the test (and shows up as a failure of
 * the challenge stage, which every test checks for).
 */
class ChallengeHandlerTest {
  static final String ID = "5d1c0b7a-3e2f-4a6b-9c8d-0e1f2a3b4c5d";
  static final String ORDER = "https://ca.example/order/7";
  static final String AUTHZ = "https://ca.example/authz/7";
  static final String CHALLENGE = "https://ca.example/chall/7";

  private final HandlerFixture fx = new HandlerFixture(2);
  private final MockProducer<byte[], byte[]> producer = fx.producer();
  private final CompactedStore<ChallengeRecord> records =
      new CompactedStore<>(fx.topics().challengeRecords, fx.publisher(), Map.of());
  private final ScriptedCa ca = new ScriptedCa();
  private final FakeResponses responses = new FakeResponses();
  private final ServiceMetrics metrics = new ServiceMetrics("challenge-service");

  @AfterEach
  void stop() {
    fx.close();
  }

  private ChallengeHandler handler(Duration deadline) {
    CaProfile profile = HandlerFixture.profile(deadline, Duration.ofMinutes(1));
    return new ChallengeHandler(
        CaProfiles.of(profile),
        fx.caCalls(profile, metrics),
        ca,
        records,
        responses,
        fx.publisher(),
        fx.topics(),
        Clock.systemUTC(),
        new PollPolicy(Duration.ofMillis(5), Duration.ofMillis(40)),
        metrics);
  }

  private ChallengeHandler handler() {
    return handler(Duration.ofMinutes(1));
  }

  /** The CA's next answers, in order; a call with nothing scripted fails. */
  static final class ScriptedCa implements AuthorizationGateway {
    final Deque<Supplier<AuthorizationView>> fetches = new ArrayDeque<>();
    final Deque<Supplier<ChallengeView>> triggers = new ArrayDeque<>();
    final List<String> calls = Collections.synchronizedList(new ArrayList<>());

    @Override
    public AuthorizationView fetch(CaProfile profile, String authorizationUrl, ChallengeType type) {
      return next("fetch", fetches, authorizationUrl);
    }

    @Override
    public ChallengeView trigger(CaProfile profile, String challengeUrl, ChallengeType type) {
      return next("trigger", triggers, challengeUrl);
    }

    private synchronized <T> T next(String call, Deque<Supplier<T>> answers, String url) {
      calls.add(call);
      Supplier<T> answer = answers.poll();
      if (answer == null) {
        throw new AssertionError("unexpected " + call + " of " + url);
      }
      return answer.get();
    }

    ScriptedCa fetched(AcmeStatus authorization, AcmeStatus challenge) {
      fetches.add(() -> authorization(authorization, Optional.of(challenge(challenge))));
      return this;
    }

    ScriptedCa triggered(AcmeStatus challenge) {
      triggers.add(() -> challenge(challenge));
      return this;
    }
  }

  /** Serves nothing; remembers what it was asked to serve and to remove. */
  static final class FakeResponses implements Provisioner {
    final List<String> provisioned = Collections.synchronizedList(new ArrayList<>());
    final List<String> removed = Collections.synchronizedList(new ArrayList<>());
    volatile Optional<Problem> problem = Optional.empty();

    /** When set, the first provisioning completes only with it. */
    volatile CompletableFuture<Optional<Problem>> firstGate;

    @Override
    public CompletableFuture<Optional<Problem>> provision(
        ChallengeType type, ChallengeView challenge) {
      provisioned.add(challenge.token());
      CompletableFuture<Optional<Problem>> gate = firstGate;
      if (gate != null) {
        firstGate = null;
        return gate;
      }
      return CompletableFuture.completedFuture(problem);
    }

    @Override
    public CompletableFuture<Void> remove(AuthorizationWork work) {
      removed.add(String.valueOf(work.getToken()));
      return CompletableFuture.completedFuture(null);
    }
  }

  static ChallengeView challenge(AcmeStatus status) {
    return Views.challenge(status, CHALLENGE);
  }

  static AuthorizationView authorization(AcmeStatus status, Optional<ChallengeView> challenge) {
    return Views.authorization(AUTHZ, status, challenge, Optional.empty());
  }

  static OrderPlaced placed() {
    RenewalRequested request =
        StackFixture.request(ID, ChallengeType.HTTP_01, HandlerFixture.PROFILE, "shop.example");
    return OrderPlaced.newBuilder()
        .setEventId("p")
        .setRequestId(ID)
        .setOccurredAt(Instant.now())
        .setRequest(request)
        .setAccountUrl("https://ca.example/acct/1")
        .setOrderUrl(ORDER)
        .setFinalizeUrl(ORDER + "/finalize")
        .setAuthorizationUrls(List.of(AUTHZ))
        .setOrderStatus(AcmeStatus.PENDING)
        .build();
  }

  private AuthorizationWork work() {
    return records.get(ID).orElseThrow().getAuthorizations().get(0);
  }

  private void awaitDone() {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                records.get(ID).isPresent()
                    && work().getState() == AuthorizationWorkState.DONE
                    && !responses.removed.isEmpty());
  }

  private <T extends SpecificRecord> List<T> sent(String topic, Class<T> type) {
    return fx.sent(topic, type);
  }

  private List<AcmeStatus> authorizationsObserved() {
    return sent("acme.authorization.observed", AuthorizationObserved.class).stream()
        .map(AuthorizationObserved::getStatus)
        .toList();
  }

  private List<RenewalFailed> failures() {
    return sent("renewal.failed", RenewalFailed.class);
  }

  @Test
  void aTriggerAnsweredInvalidIsEvidenceTheAuthorizationDecidesAndNothingFails() throws Exception {
    // The Keyfactor case (ACME-QUIRKS case 1): the trigger's answer says invalid, the
    // authorization turns valid moments later.
    ca.fetched(AcmeStatus.PENDING, AcmeStatus.PENDING)
        .triggered(AcmeStatus.INVALID)
        .fetched(AcmeStatus.VALID, AcmeStatus.VALID);
    handler().handle(ID, placed()).get(5, TimeUnit.SECONDS);
    awaitDone();

    assertThat(ca.calls).containsExactly("fetch", "trigger", "fetch");
    assertThat(failures()).isEmpty();
    assertThat(authorizationsObserved()).containsExactly(AcmeStatus.PENDING, AcmeStatus.VALID);
    List<ChallengeObserved> challenges = sent("acme.challenge.observed", ChallengeObserved.class);
    assertThat(challenges)
        .extracting(ChallengeObserved::getSource, ChallengeObserved::getStatus)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                ObservationSource.TRIGGER_RESPONSE, AcmeStatus.INVALID),
            org.assertj.core.groups.Tuple.tuple(ObservationSource.POLL, AcmeStatus.VALID));
    assertThat(challenges.get(0).getProblem().getType())
        .isEqualTo("urn:ietf:params:acme:error:unauthorized");
    assertThat(responses.provisioned).containsExactly("tok7");
    assertThat(responses.removed).containsExactly("tok7");
    assertThat(work().getLastAuthorizationStatus()).isEqualTo(AcmeStatus.VALID);
    assertThat(metrics.get("challenges.trigger.invalid")).isEqualTo(1);
  }

  @Test
  void anAuthorizationAlreadyValidIsReusedWithoutSolvingOrTriggering() throws Exception {
    ca.fetched(AcmeStatus.VALID, AcmeStatus.VALID);
    handler().handle(ID, placed()).get(5, TimeUnit.SECONDS);
    awaitDone();

    assertThat(ca.calls).containsExactly("fetch");
    assertThat(responses.provisioned).isEmpty();
    List<AuthorizationObserved> observed =
        sent("acme.authorization.observed", AuthorizationObserved.class);
    assertThat(observed).hasSize(1);
    assertThat(observed.get(0).getReused()).isTrue();
    assertThat(metrics.get("authorizations.reused")).isEqualTo(1);
    assertThat(failures()).isEmpty();
  }

  @Test
  void aChallengeTypeTheCaDoesNotOfferFailsTheStageNotRetryableAndTriggersNothing()
      throws Exception {
    ca.fetches.add(() -> authorization(AcmeStatus.PENDING, Optional.empty()));
    handler().handle(ID, placed()).get(5, TimeUnit.SECONDS);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> work().getState() == AuthorizationWorkState.DONE);

    assertThat(ca.calls).containsExactly("fetch");
    RenewalFailed failed = failures().get(0);
    assertThat(failed.getStage()).isEqualTo(Stage.CHALLENGE);
    assertThat(failed.getRetryable()).isFalse();
    assertThat(failed.getProblem().getType()).isEqualTo(AuthorizationStep.CHALLENGE_NOT_OFFERED);
    assertThat(failed.getAuthorizationUrl()).isEqualTo(AUTHZ);
    assertThat(failed.getOrderUrl()).isEqualTo(ORDER);
    assertThat(failed.getRequest().getRequestId()).isEqualTo(ID);
  }

  @Test
  void aResponseThatCannotBeServedFailsRetryableIsRemovedAndIsNeverTriggered() throws Exception {
    responses.problem =
        Optional.of(
            RenewalFailures.problem(ChallengeResponses.SELF_CHECK_FAILED, "not served in time"));
    ca.fetched(AcmeStatus.PENDING, AcmeStatus.PENDING);
    handler().handle(ID, placed()).get(5, TimeUnit.SECONDS);
    awaitDone();

    assertThat(ca.calls).containsExactly("fetch");
    RenewalFailed failed = failures().get(0);
    assertThat(failed.getRetryable()).isTrue();
    assertThat(failed.getProblem().getType()).isEqualTo(ChallengeResponses.SELF_CHECK_FAILED);
    assertThat(responses.removed).containsExactly("tok7");
  }

  @Test
  void aTransientFailureWhilePollingIsRetriedThroughTheRetryPolicy() throws Exception {
    ca.fetched(AcmeStatus.PENDING, AcmeStatus.PENDING).triggered(AcmeStatus.PROCESSING);
    ca.fetches.add(
        () -> {
          throw new RuntimeException(new AcmeNetworkException(new IOException("reset")));
        });
    ca.fetched(AcmeStatus.VALID, AcmeStatus.VALID);
    handler().handle(ID, placed()).get(5, TimeUnit.SECONDS);
    awaitDone();

    assertThat(ca.calls).containsExactly("fetch", "trigger", "fetch", "fetch");
    assertThat(failures()).isEmpty();
    assertThat(metrics.get("ca.retries")).isEqualTo(1);
    assertThat(authorizationsObserved()).containsExactly(AcmeStatus.PENDING, AcmeStatus.VALID);
  }

  @Test
  void aTriggerTheCaRefusesWhileTheChallengeStaysPendingFailsWithTheCasProblem() throws Exception {
    ca.fetched(AcmeStatus.PENDING, AcmeStatus.PENDING);
    ca.triggers.add(
        () -> {
          throw HandlerFixture.caError(
              "{\"type\":\"urn:ietf:params:acme:error:malformed\",\"detail\":\"no\",\"status\":400}");
        });
    ca.fetched(AcmeStatus.PENDING, AcmeStatus.PENDING);
    handler().handle(ID, placed()).get(5, TimeUnit.SECONDS);
    awaitDone();

    // Read again before anything else: the challenge is still pending, so the refusal stands.
    assertThat(ca.calls).containsExactly("fetch", "trigger", "fetch");
    RenewalFailed failed = failures().get(0);
    assertThat(failed.getProblem().getType()).isEqualTo("urn:ietf:params:acme:error:malformed");
    assertThat(failed.getRetryable()).isFalse();
    assertThat(responses.removed).containsExactly("tok7");
  }

  @Test
  void aTriggerAnsweredWithA500AfterTheCaActedOnItIsNotSentAgainAndTheAuthorizationDecides()
      throws Exception {
    ca.fetched(AcmeStatus.PENDING, AcmeStatus.PENDING);
    ca.triggers.add(
        () -> {
          throw new RuntimeException(new AcmeException("HTTP 500"));
        });
    ca.fetched(AcmeStatus.PENDING, AcmeStatus.PROCESSING)
        .fetched(AcmeStatus.VALID, AcmeStatus.VALID);
    handler().handle(ID, placed()).get(5, TimeUnit.SECONDS);
    awaitDone();

    assertThat(ca.calls).containsExactly("fetch", "trigger", "fetch", "fetch");
    assertThat(failures()).isEmpty();
    assertThat(authorizationsObserved()).containsExactly(AcmeStatus.PENDING, AcmeStatus.VALID);
    assertThat(sent("acme.authorization.observed", AuthorizationObserved.class).get(1).getReused())
        .isFalse();
    assertThat(metrics.get("ca.retries")).isEqualTo(1);
  }

  @Test
  void aTriggerRefusedBecauseTheChallengeIsAlreadyValidEndsValidNotFailed() throws Exception {
    // The CA acted on a first trigger whose answer was lost; our second one is refused.
    ca.fetched(AcmeStatus.PENDING, AcmeStatus.PENDING);
    ca.triggers.add(
        () -> {
          throw HandlerFixture.caError(
              "{\"type\":\"urn:ietf:params:acme:error:malformed\",\"detail\":\"Cannot update challenge with status valid\",\"status\":400}");
        });
    ca.fetched(AcmeStatus.VALID, AcmeStatus.VALID);
    handler().handle(ID, placed()).get(5, TimeUnit.SECONDS);
    awaitDone();

    assertThat(ca.calls).containsExactly("fetch", "trigger", "fetch");
    assertThat(failures()).isEmpty();
    assertThat(work().getLastAuthorizationStatus()).isEqualTo(AcmeStatus.VALID);
    assertThat(metrics.get("authorizations.reused")).isZero();
  }

  @Test
  void stillPendingAtTheDeadlineIsObservedTimedOutAndTheResponseRemoved() throws Exception {
    ca.fetched(AcmeStatus.PENDING, AcmeStatus.PENDING).triggered(AcmeStatus.PROCESSING);
    for (int i = 0; i < 200; i++) {
      ca.fetched(AcmeStatus.PENDING, AcmeStatus.PROCESSING);
    }
    handler(Duration.ofMillis(300)).handle(ID, placed()).get(5, TimeUnit.SECONDS);
    awaitDone();

    assertThat(authorizationsObserved()).containsExactly(AcmeStatus.PENDING, AcmeStatus.TIMED_OUT);
    AuthorizationObserved timedOut =
        sent("acme.authorization.observed", AuthorizationObserved.class).get(1);
    assertThat(timedOut.getSource()).isEqualTo(ObservationSource.DEADLINE);
    assertThat(timedOut.getProblem().getType()).isEqualTo(AuthorizationStep.AUTHORIZATION_TIMEOUT);
    assertThat(ca.calls.stream().filter("trigger"::equals)).hasSize(1);
    assertThat(failures()).isEmpty();
    assertThat(metrics.get("authorizations.timed.out")).isEqualTo(1);
  }

  private void recorded(AuthorizationWork work) throws Exception {
    records
        .put(
            ID,
            ChallengeRecord.newBuilder()
                .setRequestId(ID)
                .setOrderUrl(ORDER)
                .setAccountUrl("https://ca.example/acct/1")
                .setRequest(placed().getRequest())
                .setDeadline(Instant.now().plusSeconds(60))
                .setAuthorizations(List.of(work))
                .setUpdatedAt(Instant.now())
                .build())
        .get();
    producer.clear();
  }

  /** The work as recorded just before a trigger: what is served, nothing about the trigger. */
  private static AuthorizationWork provisionedBeforeARestart() {
    return AuthorizationWork.newBuilder()
        .setAuthorizationUrl(AUTHZ)
        .setState(AuthorizationWorkState.NEW)
        .setIdentifier("shop.example")
        .setChallengeUrl(CHALLENGE)
        .setToken("tok7")
        .build();
  }

  @Test
  void aResumeAfterTheTriggerWasSentPollsAndNeverTriggersAgain() throws Exception {
    // Provisioning recorded, the process died around the trigger: the CA already moved on.
    recorded(provisionedBeforeARestart());
    ca.fetched(AcmeStatus.PENDING, AcmeStatus.PROCESSING)
        .fetched(AcmeStatus.VALID, AcmeStatus.VALID);
    handler().resume(Map.of(ID, records.get(ID).orElseThrow()));
    awaitDone();

    assertThat(ca.calls).containsExactly("fetch", "fetch");
    assertThat(responses.provisioned).isEmpty();
    assertThat(authorizationsObserved()).containsExactly(AcmeStatus.PENDING, AcmeStatus.VALID);
    assertThat(metrics.get("authorizations.resumed")).isEqualTo(1);
  }

  @Test
  void aResumeBeforeTheTriggerWasAnsweredTriggersAStillPendingChallengeOnce() throws Exception {
    recorded(provisionedBeforeARestart());
    ca.fetched(AcmeStatus.PENDING, AcmeStatus.PENDING)
        .triggered(AcmeStatus.PROCESSING)
        .fetched(AcmeStatus.VALID, AcmeStatus.VALID);
    handler().resume(Map.of(ID, records.get(ID).orElseThrow()));
    awaitDone();

    assertThat(ca.calls).containsExactly("fetch", "trigger", "fetch");
    assertThat(responses.provisioned).containsExactly("tok7");
    assertThat(failures()).isEmpty();
  }

  @Test
  void workRevokedInFlightDoesNothingAfterwardsWhileTheNextOwnerFinishesIt() throws Exception {
    // The partition is revoked while a provisioning is in flight, and comes straight back.
    CompletableFuture<Optional<Problem>> oldFlow = new CompletableFuture<>();
    responses.firstGate = oldFlow;
    ca.fetched(AcmeStatus.PENDING, AcmeStatus.PENDING);
    ChallengeHandler handler = handler();
    handler.handle(ID, placed()).get(5, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(5)).until(() -> responses.provisioned.size() == 1);
    ChallengeRecord recorded = records.get(ID).orElseThrow();
    int partition = records.partitionOf(ID);
    handler.cancel(List.of(partition));
    records.unload(List.of(partition));
    records.put(ID, recorded).get();

    ca.fetched(AcmeStatus.PENDING, AcmeStatus.PENDING)
        .triggered(AcmeStatus.PROCESSING)
        .fetched(AcmeStatus.VALID, AcmeStatus.VALID);
    handler.resume(Map.of(ID, recorded));
    awaitDone();
    // The old flow's provisioning ends late, and badly: it must neither fail the request nor
    // remove the response the new flow served.
    oldFlow.complete(
        Optional.of(RenewalFailures.problem(ChallengeResponses.SELF_CHECK_FAILED, "too late")));
    Thread.sleep(200);

    assertThat(ca.calls).containsExactly("fetch", "fetch", "trigger", "fetch");
    assertThat(failures()).isEmpty();
    assertThat(responses.removed).containsExactly("tok7");
    assertThat(work().getState()).isEqualTo(AuthorizationWorkState.DONE);
  }

  @Test
  void theSameOrderAnnouncedTwiceIsWorkedOnOnce() throws Exception {
    ca.fetched(AcmeStatus.VALID, AcmeStatus.VALID);
    ChallengeHandler handler = handler();
    handler.handle(ID, placed()).get(5, TimeUnit.SECONDS);
    awaitDone();
    handler.handle(ID, placed()).get(5, TimeUnit.SECONDS);

    assertThat(ca.calls).containsExactly("fetch");
    assertThat(metrics.get("orders.duplicate")).isEqualTo(1);
  }
}
