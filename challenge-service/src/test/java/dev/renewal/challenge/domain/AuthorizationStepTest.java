package dev.renewal.challenge.domain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.acme.PollPolicy;
import dev.renewal.challenge.domain.AuthorizationStep.Action;
import dev.renewal.challenge.domain.AuthorizationStep.AlreadyTriggered;
import dev.renewal.challenge.domain.AuthorizationStep.Finish;
import dev.renewal.challenge.domain.AuthorizationStep.NotOffered;
import dev.renewal.challenge.domain.AuthorizationStep.Nothing;
import dev.renewal.challenge.domain.AuthorizationStep.Provision;
import dev.renewal.challenge.domain.AuthorizationStep.Read;
import dev.renewal.challenge.domain.AuthorizationStep.Seen;
import dev.renewal.challenge.domain.AuthorizationStep.TimedOut;
import dev.renewal.events.AcmeStatus;
import dev.renewal.events.AuthorizationWork;
import dev.renewal.events.AuthorizationWorkState;
import dev.renewal.events.ChallengeType;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The rules of one authorization, as a table: recorded work, the CA's answer, the clock. */
class AuthorizationStepTest {
  static final String AUTHZ = "https://ca.example/authz/1";
  static final String CHALLENGE = "https://ca.example/chall/1";
  static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
  static final Instant DEADLINE = NOW.plusSeconds(60);
  static final PollPolicy POLL = new PollPolicy(Duration.ofMillis(100), Duration.ofSeconds(2));

  static AuthorizationWork work(AuthorizationWorkState state) {
    return AuthorizationWork.newBuilder().setAuthorizationUrl(AUTHZ).setState(state).build();
  }

  static AuthorizationWork triggered(AcmeStatus authorization, AcmeStatus challenge) {
    return AuthorizationWork.newBuilder(work(AuthorizationWorkState.TRIGGERED))
        .setIdentifier("shop.example")
        .setChallengeUrl(CHALLENGE)
        .setToken("tok")
        .setLastAuthorizationStatus(authorization)
        .setLastChallengeStatus(challenge)
        .build();
  }

  static ChallengeView challenge(AcmeStatus status) {
    return Views.challenge(status, CHALLENGE);
  }

  static AuthorizationView view(AcmeStatus status, Optional<ChallengeView> challenge) {
    return view(status, challenge, Optional.empty());
  }

  static AuthorizationView view(
      AcmeStatus status, Optional<ChallengeView> challenge, Optional<Instant> retryAfter) {
    return Views.authorization(AUTHZ, status, challenge, retryAfter);
  }

  static Action next(AuthorizationWork work, AuthorizationView view, int poll, Instant now) {
    return AuthorizationStep.next(
        work, ChallengeType.HTTP_01, view, poll, now, DEADLINE, POLL, Optional.empty());
  }

  @Test
  void aNewAuthorizationIsFirstReadAtOnce() {
    assertThat(AuthorizationStep.start(work(AuthorizationWorkState.NEW), NOW, DEADLINE))
        .isEqualTo(new Read(Duration.ZERO, 0));
  }

  @Test
  void aTriggeringRecordOfAnEarlierVersionIsReadAgainBeforeAnythingIsDecided() {
    assertThat(AuthorizationStep.start(work(AuthorizationWorkState.TRIGGERING), NOW, DEADLINE))
        .isEqualTo(new Read(Duration.ZERO, 0));
  }

  @Test
  void aTriggeredAuthorizationResumesByPollingAtOnce() {
    assertThat(
            AuthorizationStep.start(
                triggered(AcmeStatus.PENDING, AcmeStatus.PENDING), NOW, DEADLINE))
        .isEqualTo(new Read(Duration.ZERO, 1));
  }

  @Test
  void aTriggeredAuthorizationResumedAfterItsDeadlineTimesOutWithoutAskingTheCa() {
    Action action =
        AuthorizationStep.start(
            triggered(AcmeStatus.PENDING, AcmeStatus.PENDING), DEADLINE.plusMillis(1), DEADLINE);
    assertThat(action).isInstanceOf(TimedOut.class);
    TimedOut timedOut = (TimedOut) action;
    assertThat(timedOut.problem().getType()).isEqualTo(AuthorizationStep.AUTHORIZATION_TIMEOUT);
    assertThat(timedOut.problem().getDetail())
        .isEqualTo("the authorization was still pending at its deadline " + DEADLINE);
  }

  @Test
  void doneWorkNeedsNothingWhateverTheCaSays() {
    assertThat(AuthorizationStep.start(work(AuthorizationWorkState.DONE), NOW, DEADLINE))
        .isEqualTo(new Nothing());
    assertThat(
            next(
                work(AuthorizationWorkState.DONE),
                view(AcmeStatus.PENDING, Optional.of(challenge(AcmeStatus.PENDING))),
                3,
                NOW))
        .isEqualTo(new Nothing());
  }

  @Test
  void anAuthorizationAlreadyValidAtTheFirstLookIsReusedAndNothingIsSolved() {
    assertThat(
            next(
                work(AuthorizationWorkState.NEW),
                view(AcmeStatus.VALID, Optional.of(challenge(AcmeStatus.VALID))),
                0,
                NOW))
        .isEqualTo(new Finish(true));
  }

  @Test
  void anAuthorizationAlreadyInvalidAtTheFirstLookFinishesWithoutSolving() {
    assertThat(
            next(
                work(AuthorizationWorkState.NEW),
                view(AcmeStatus.INVALID, Optional.empty()),
                0,
                NOW))
        .isEqualTo(new Finish(false));
  }

  @Test
  void aPendingAuthorizationWithTheChallengeOfferedIsProvisionedForItsIdentifier() {
    ChallengeView pending = challenge(AcmeStatus.PENDING);
    assertThat(
            next(
                work(AuthorizationWorkState.NEW),
                view(AcmeStatus.PENDING, Optional.of(pending)),
                0,
                NOW))
        .isEqualTo(new Provision(pending, "shop.example"));
  }

  @Test
  void aChallengeTypeTheCaDoesNotOfferFailsNamingTheTypeTheNameAndTheAuthorization() {
    Action action =
        next(work(AuthorizationWorkState.NEW), view(AcmeStatus.PENDING, Optional.empty()), 0, NOW);
    assertThat(action).isInstanceOf(NotOffered.class);
    NotOffered notOffered = (NotOffered) action;
    assertThat(notOffered.problem().getType()).isEqualTo(AuthorizationStep.CHALLENGE_NOT_OFFERED);
    assertThat(notOffered.problem().getDetail())
        .isEqualTo("the CA does not offer HTTP_01 for shop.example (authorization " + AUTHZ + ")");
  }

  @Test
  void aTriggerThatMayHaveBeenSentBeforeARestartIsNotSentAgainOnceTheChallengeMoved() {
    AuthorizationWork provisioned =
        AuthorizationWork.newBuilder(work(AuthorizationWorkState.NEW))
            .setChallengeUrl(CHALLENGE)
            .setToken("tok")
            .build();
    for (AcmeStatus moved : new AcmeStatus[] {AcmeStatus.PROCESSING, AcmeStatus.INVALID}) {
      assertThat(next(provisioned, view(AcmeStatus.PENDING, Optional.of(challenge(moved))), 0, NOW))
          .as("challenge %s", moved)
          .isEqualTo(new AlreadyTriggered());
    }
  }

  @Test
  void aTriggerThatMayHaveBeenSentIsSentWhenTheChallengeIsStillPending() {
    AuthorizationWork provisioned =
        AuthorizationWork.newBuilder(work(AuthorizationWorkState.NEW))
            .setChallengeUrl(CHALLENGE)
            .setToken("tok")
            .build();
    ChallengeView pending = challenge(AcmeStatus.PENDING);
    assertThat(next(provisioned, view(AcmeStatus.PENDING, Optional.of(pending)), 0, NOW))
        .isEqualTo(new Provision(pending, "shop.example"));
  }

  @Test
  void aRefusedTriggerReadAgainDecidesByTheChallengeNeverBySendingItBlindly() {
    AuthorizationWork provisioned =
        AuthorizationWork.newBuilder(work(AuthorizationWorkState.NEW))
            .setChallengeUrl(CHALLENGE)
            .setToken("tok")
            .build();
    Optional<dev.renewal.events.Problem> refusal =
        Optional.of(
            dev.renewal.contract.RenewalFailures.problem(
                "urn:ietf:params:acme:error:malformed",
                "Cannot update challenge with status valid"));
    // The CA had acted on it: the challenge moved on, the refusal is moot.
    assertThat(
            AuthorizationStep.next(
                provisioned,
                ChallengeType.HTTP_01,
                view(AcmeStatus.PENDING, Optional.of(challenge(AcmeStatus.VALID))),
                0,
                NOW,
                DEADLINE,
                POLL,
                refusal))
        .isEqualTo(new AlreadyTriggered());
    // Still pending: the refusal stands.
    assertThat(
            AuthorizationStep.next(
                provisioned,
                ChallengeType.HTTP_01,
                view(AcmeStatus.PENDING, Optional.of(challenge(AcmeStatus.PENDING))),
                0,
                NOW,
                DEADLINE,
                POLL,
                refusal))
        .isEqualTo(new AuthorizationStep.TriggerRefused(refusal.get()));
  }

  @Test
  void afterTheTriggerTheFirstPollWaitsTheInitialDelay() {
    assertThat(
            AuthorizationStep.afterTrigger(
                triggered(AcmeStatus.PENDING, AcmeStatus.PROCESSING), NOW, DEADLINE, POLL))
        .isEqualTo(new Read(Duration.ofMillis(100), 1));
  }

  @Test
  void aChallengeThatAnsweredItsTriggerWithInvalidIsEvidenceAndPollingGoesOn() {
    AuthorizationWork work = triggered(AcmeStatus.PENDING, AcmeStatus.INVALID);
    assertThat(
            next(
                work, view(AcmeStatus.PENDING, Optional.of(challenge(AcmeStatus.INVALID))), 1, NOW))
        .isEqualTo(new Read(Duration.ofMillis(100), 2));
    assertThat(next(work, view(AcmeStatus.VALID, Optional.of(challenge(AcmeStatus.VALID))), 2, NOW))
        .isEqualTo(new Finish(false));
  }

  @Test
  void pollsBackOffFromTheInitialDelayDoublingToTheMaximum() {
    AuthorizationWork work = triggered(AcmeStatus.PENDING, AcmeStatus.PROCESSING);
    AuthorizationView pending =
        view(AcmeStatus.PENDING, Optional.of(challenge(AcmeStatus.PROCESSING)));
    assertThat(next(work, pending, 1, NOW)).isEqualTo(new Read(Duration.ofMillis(100), 2));
    assertThat(next(work, pending, 2, NOW)).isEqualTo(new Read(Duration.ofMillis(200), 3));
    assertThat(next(work, pending, 3, NOW)).isEqualTo(new Read(Duration.ofMillis(400), 4));
    assertThat(next(work, pending, 9, NOW)).isEqualTo(new Read(Duration.ofSeconds(2), 10));
  }

  @Test
  void theCasRetryAfterSetsTheNextPollWithinTheBounds() {
    AuthorizationWork work = triggered(AcmeStatus.PENDING, AcmeStatus.PROCESSING);
    ChallengeView processing = challenge(AcmeStatus.PROCESSING);
    assertThat(
            next(
                work,
                view(AcmeStatus.PENDING, Optional.of(processing), Optional.of(NOW.plusMillis(700))),
                1,
                NOW))
        .isEqualTo(new Read(Duration.ofMillis(700), 2));
    assertThat(
            next(
                work,
                view(
                    AcmeStatus.PENDING,
                    Optional.of(processing),
                    Optional.of(NOW.plusSeconds(3600))),
                1,
                NOW))
        .isEqualTo(new Read(Duration.ofSeconds(2), 2));
  }

  @Test
  void stillPendingAfterTheDeadlineTimesOutNamingTheLastStatusSeen() {
    AuthorizationWork work = triggered(AcmeStatus.PROCESSING, AcmeStatus.PROCESSING);
    Action action =
        next(
            work,
            view(AcmeStatus.PROCESSING, Optional.of(challenge(AcmeStatus.PROCESSING))),
            4,
            DEADLINE.plusSeconds(1));
    assertThat(action).isInstanceOf(TimedOut.class);
    assertThat(((TimedOut) action).problem().getDetail()).contains("still processing");
  }

  @Test
  void aTerminalAuthorizationFinishesEvenAfterTheDeadline() {
    AuthorizationWork work = triggered(AcmeStatus.PENDING, AcmeStatus.PROCESSING);
    assertThat(
            next(
                work,
                view(AcmeStatus.INVALID, Optional.of(challenge(AcmeStatus.INVALID))),
                4,
                DEADLINE.plusSeconds(1)))
        .isEqualTo(new Finish(false));
  }

  @Test
  void onlyChangesAreObservedAndTheChallengeOnlyOnceTriggered() {
    AuthorizationView pending =
        view(AcmeStatus.PENDING, Optional.of(challenge(AcmeStatus.PENDING)));
    assertThat(AuthorizationStep.seen(work(AuthorizationWorkState.NEW), pending))
        .isEqualTo(new Seen(true, false, false));
    AuthorizationWork remembered =
        AuthorizationStep.remember(
            work(AuthorizationWorkState.NEW), pending, new Seen(true, false, false));
    assertThat(remembered.getLastAuthorizationStatus()).isEqualTo(AcmeStatus.PENDING);
    assertThat(remembered.getIdentifier()).isEqualTo("shop.example");
    assertThat(AuthorizationStep.seen(remembered, pending).any()).isFalse();

    AuthorizationWork triggered = triggered(AcmeStatus.PENDING, AcmeStatus.PENDING);
    AuthorizationView challengeMoved =
        view(AcmeStatus.PENDING, Optional.of(challenge(AcmeStatus.PROCESSING)));
    Seen seen = AuthorizationStep.seen(triggered, challengeMoved);
    assertThat(seen).isEqualTo(new Seen(false, true, false));
    assertThat(AuthorizationStep.remember(triggered, challengeMoved, seen).getLastChallengeStatus())
        .isEqualTo(AcmeStatus.PROCESSING);
  }

  @Test
  void aValidAuthorizationAtTheFirstLookIsObservedAsReused() {
    AuthorizationView valid = view(AcmeStatus.VALID, Optional.of(challenge(AcmeStatus.VALID)));
    assertThat(AuthorizationStep.seen(work(AuthorizationWorkState.NEW), valid))
        .isEqualTo(new Seen(true, false, true));
    assertThat(AuthorizationStep.seen(triggered(AcmeStatus.PENDING, AcmeStatus.PROCESSING), valid))
        .isEqualTo(new Seen(true, true, false));
  }

  @Test
  void provisioningRecordsTheTokenForHttp01AndTheTxtRecordForDns01() {
    AuthorizationWork http =
        AuthorizationStep.provisioning(
            work(AuthorizationWorkState.NEW),
            "shop.example",
            challenge(AcmeStatus.PENDING),
            ChallengeType.HTTP_01);
    assertThat(http.getToken()).isEqualTo("tok7");
    assertThat(http.getTxtName()).isNull();
    assertThat(http.getChallengeUrl()).isEqualTo(CHALLENGE);
    assertThat(http.getState()).isEqualTo(AuthorizationWorkState.NEW);

    ChallengeView dns =
        new ChallengeView(
            CHALLENGE,
            AcmeStatus.PENDING,
            Optional.empty(),
            Optional.empty(),
            "tok",
            "digest",
            Optional.of("_acme-challenge.shop.example."));
    AuthorizationWork txt =
        AuthorizationStep.provisioning(
            work(AuthorizationWorkState.NEW), "shop.example", dns, ChallengeType.DNS_01);
    assertThat(txt.getToken()).isNull();
    assertThat(txt.getTxtName()).isEqualTo("_acme-challenge.shop.example.");
    assertThat(txt.getTxtValue()).isEqualTo("digest");
  }
}
