package dev.renewal.challenge.domain;

import dev.renewal.acme.PollPolicy;
import dev.renewal.events.AcmeStatus;
import dev.renewal.events.AuthorizationWork;
import dev.renewal.events.AuthorizationWorkState;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.Problem;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * What to do next for one authorization, as a pure function of its recorded work, what the CA just
 * said and the clock (the challenge-service counterpart of finalize-service's {@code
 * Reconciliation}). The handler applies the one action returned, records the fact, and asks again.
 *
 * <p>The rules, in RFC 8555 terms: the authorization is authoritative (section 7.5.1), so it is
 * what is read and polled, never the challenge; an authorization already {@code valid} is reused
 * and nothing is solved (ACME-QUIRKS case 8); a challenge that answered its trigger with {@code
 * invalid} is evidence, not a verdict (case 1): polling goes on until the authorization is terminal
 * (section 7.1.6) or the deadline passes. A challenge whose trigger may have been sent before a
 * restart is triggered again only while still {@code pending}, so a trigger is never sent twice.
 */
public final class AuthorizationStep {
  private AuthorizationStep() {}

  /** Authorization statuses after which nothing changes (RFC 8555 section 7.1.6). */
  public static final Set<AcmeStatus> TERMINAL =
      EnumSet.of(
          AcmeStatus.VALID,
          AcmeStatus.INVALID,
          AcmeStatus.DEACTIVATED,
          AcmeStatus.EXPIRED,
          AcmeStatus.REVOKED);

  /** Problem type: the CA does not offer the requested challenge type. */
  public static final String CHALLENGE_NOT_OFFERED = "urn:renewal:problem:challenge-not-offered";

  /** Problem type: the authorization was still pending at its deadline. */
  public static final String AUTHORIZATION_TIMEOUT = "urn:renewal:problem:authorization-timeout";

  /** The one thing to do next. */
  public sealed interface Action
      permits Nothing,
          Read,
          Finish,
          NotOffered,
          Provision,
          AlreadyTriggered,
          TriggerRefused,
          TimedOut {}

  /** The work is done (or unknown here): nothing to do. */
  public record Nothing() implements Action {}

  /**
   * Read the authorization after {@code delay}. {@code poll} counts the reads since the trigger (0
   * for the first look, before anything is solved), for the back-off of the next one.
   */
  public record Read(Duration delay, int poll) implements Action {}

  /**
   * The authorization is terminal: remove the response, mark the work done. {@code reused}: it was
   * already valid at the first look, nothing was solved.
   */
  public record Finish(boolean reused) implements Action {}

  /** The CA does not offer the requested type: a failure that a retry will not mend, then done. */
  public record NotOffered(Problem problem) implements Action {}

  /**
   * Serve the response of {@code challenge} for {@code identifier} (recording first what is served,
   * so that it can be removed whatever happens next), then trigger it.
   */
  public record Provision(ChallengeView challenge, String identifier) implements Action {}

  /**
   * The trigger was sent before a restart (the challenge is no longer pending): record the work as
   * triggered and poll, never trigger again.
   */
  public record AlreadyTriggered() implements Action {}

  /**
   * The CA refused the trigger with {@code problem} and, read again, the challenge is still
   * pending: the refusal stands (a failure no retry mends); remove the response, done.
   */
  public record TriggerRefused(Problem problem) implements Action {}

  /** Still not terminal at the deadline: observe {@code TIMED_OUT}, remove the response, done. */
  public record TimedOut(Problem problem) implements Action {}

  /** On start or resume, before the CA is asked anything. */
  public static Action start(AuthorizationWork work, Instant now, Instant deadline) {
    return switch (work.getState()) {
      // TRIGGERING: written before the trigger by versions before 2026-11-27; re-read, then decide.
      case NEW, TRIGGERING -> new Read(Duration.ZERO, 0);
      case TRIGGERED -> poll(work, Duration.ZERO, 1, now, deadline);
      default -> new Nothing();
    };
  }

  /**
   * After a read of the authorization. {@code work} already remembers the read ({@link #remember}),
   * {@code poll} is the number of the read just made ({@link Read#poll()}). {@code refused}: the
   * problem with which the CA refused this challenge's last trigger, if it did; a trigger whose
   * answer was lost or refused is never simply sent again: the authorization is read first, and the
   * challenge in it decides (RFC 8555 section 7.5.1: a challenge not pending was acted on).
   */
  public static Action next(
      AuthorizationWork work,
      ChallengeType type,
      AuthorizationView view,
      int poll,
      Instant now,
      Instant deadline,
      PollPolicy policy,
      Optional<Problem> refused) {
    if (work.getState() == AuthorizationWorkState.DONE) {
      return new Nothing();
    }
    boolean triggered = work.getState() == AuthorizationWorkState.TRIGGERED;
    if (TERMINAL.contains(view.status())) {
      return new Finish(reused(work, view));
    }
    if (triggered) {
      return poll(work, policy.next(poll, view.retryAfter(), now), poll + 1, now, deadline);
    }
    if (view.challenge().isEmpty()) {
      return new NotOffered(
          problem(
              CHALLENGE_NOT_OFFERED,
              "the CA does not offer "
                  + type
                  + " for "
                  + view.identifier()
                  + " (authorization "
                  + view.url()
                  + ")"));
    }
    ChallengeView challenge = view.challenge().get();
    // Provisioning details recorded: they are written just before the trigger, so it may have been
    // sent. Then trigger only a pending challenge; without them, nothing was sent.
    boolean mayHaveTriggered = work.getChallengeUrl() != null;
    if (mayHaveTriggered && challenge.status() != AcmeStatus.PENDING) {
      return new AlreadyTriggered();
    }
    if (mayHaveTriggered && refused.isPresent()) {
      return new TriggerRefused(refused.get());
    }
    return new Provision(challenge, view.identifier());
  }

  /** After the trigger's answer (recorded by {@link #triggered}): the first poll. */
  public static Action afterTrigger(
      AuthorizationWork work, Instant now, Instant deadline, PollPolicy policy) {
    return poll(work, policy.initial(), 1, now, deadline);
  }

  /** After {@link AlreadyTriggered} was recorded: poll at once. */
  public static Action afterAlreadyTriggered(
      AuthorizationWork work, Instant now, Instant deadline) {
    return poll(work, Duration.ZERO, 1, now, deadline);
  }

  private static Action poll(
      AuthorizationWork work, Duration delay, int poll, Instant now, Instant deadline) {
    if (now.isAfter(deadline)) {
      return new TimedOut(
          problem(
              AUTHORIZATION_TIMEOUT,
              "the authorization was still "
                  + String.valueOf(work.getLastAuthorizationStatus()).toLowerCase(Locale.ROOT)
                  + " at its deadline "
                  + deadline));
    }
    return new Read(delay, poll);
  }

  /**
   * What a read changed since the last one recorded: the authorization's status, and (once
   * triggered) the status of the challenge inside it. Only changes are emitted as observations.
   *
   * @param reused the authorization was valid at the first look, before anything was solved
   */
  public record Seen(boolean authorizationChanged, boolean challengeChanged, boolean reused) {
    public boolean any() {
      return authorizationChanged || challengeChanged;
    }
  }

  public static Seen seen(AuthorizationWork work, AuthorizationView view) {
    boolean triggered = work.getState() == AuthorizationWorkState.TRIGGERED;
    Optional<ChallengeView> challenge = view.challenge();
    boolean authorizationChanged = view.status() != work.getLastAuthorizationStatus();
    boolean challengeChanged =
        triggered
            && challenge.isPresent()
            && challenge.get().status() != work.getLastChallengeStatus();
    return new Seen(authorizationChanged, challengeChanged, reused(work, view));
  }

  /**
   * Valid before anything was solved (ACME-QUIRKS case 8): nothing served, nothing triggered. An
   * authorization that turned valid after our trigger (whose answer was lost) is not reused.
   */
  private static boolean reused(AuthorizationWork work, AuthorizationView view) {
    return work.getState() == AuthorizationWorkState.NEW
        && work.getChallengeUrl() == null
        && view.status() == AcmeStatus.VALID;
  }

  /** {@code work} remembering what {@code seen} found changed ({@code work} itself if nothing). */
  public static AuthorizationWork remember(
      AuthorizationWork work, AuthorizationView view, Seen seen) {
    if (!seen.any()) {
      return work;
    }
    AuthorizationWork.Builder b =
        AuthorizationWork.newBuilder(work)
            .setIdentifier(view.identifier())
            .setLastAuthorizationStatus(view.status());
    if (seen.challengeChanged()) {
      b.setLastChallengeStatus(view.challenge().orElseThrow().status());
    }
    return b.build();
  }

  /** {@code work} remembering what is about to be served, before it is. */
  public static AuthorizationWork provisioning(
      AuthorizationWork work, String identifier, ChallengeView challenge, ChallengeType type) {
    AuthorizationWork.Builder b =
        AuthorizationWork.newBuilder(work)
            .setIdentifier(identifier)
            .setChallengeUrl(challenge.url());
    if (type == ChallengeType.DNS_01) {
      b.setTxtName(challenge.recordName().orElseThrow()).setTxtValue(challenge.response());
    } else {
      b.setToken(challenge.token());
    }
    return b.build();
  }

  /** {@code work} once the trigger was answered with {@code challenge}. */
  public static AuthorizationWork triggered(AuthorizationWork work, ChallengeView challenge) {
    return AuthorizationWork.newBuilder(work)
        .setState(AuthorizationWorkState.TRIGGERED)
        .setLastChallengeStatus(challenge.status())
        .build();
  }

  /** {@code work} marked as triggered before a restart. */
  public static AuthorizationWork triggered(AuthorizationWork work) {
    return AuthorizationWork.newBuilder(work).setState(AuthorizationWorkState.TRIGGERED).build();
  }

  /** {@code work} done. */
  public static AuthorizationWork done(AuthorizationWork work) {
    return AuthorizationWork.newBuilder(work).setState(AuthorizationWorkState.DONE).build();
  }

  private static Problem problem(String type, String detail) {
    return Problem.newBuilder().setType(type).setDetail(detail).build();
  }
}
