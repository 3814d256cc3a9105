package dev.renewal.finalize.domain;

import dev.renewal.events.AcmeStatus;
import dev.renewal.events.AuthorizationEvidence;
import dev.renewal.events.Decision;
import dev.renewal.events.Problem;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * The reconciliation rules (docs/finalize-service.md), pure: a challenge observation is evidence,
 * the authorization is authoritative.
 *
 * <ol>
 *   <li>Authorization {@code valid} → VALID; if a challenge said {@code invalid} before, that is a
 *       contradiction (the CA broke RFC 8555 section 7.1.6: a challenge is invalid only if its
 *       authorization is), recorded, and the flow goes on.
 *   <li>Authorization {@code invalid}, {@code deactivated}, {@code expired}, {@code revoked} or
 *       TIMED_OUT → FAILED with the CA's problem.
 *   <li>Authorization not terminal while a challenge said {@code invalid} → WAITING, until the
 *       authorization is terminal or the grace period passes; then FAILED.
 * </ol>
 *
 * A decision is final once VALID or FAILED: later observations (duplicates, replays, late arrivals)
 * do not change it, so replaying the same observations gives the same decisions.
 */
public final class Reconciliation {
  private static final Set<AcmeStatus> FAILED_STATUSES =
      EnumSet.of(
          AcmeStatus.INVALID,
          AcmeStatus.DEACTIVATED,
          AcmeStatus.EXPIRED,
          AcmeStatus.REVOKED,
          AcmeStatus.TIMED_OUT);

  /** Problem type when the grace period for a contradicted challenge ran out. */
  public static final String GRACE_EXPIRED =
      "urn:renewal:problem:challenge-invalid-authorization-never-valid";

  private Reconciliation() {}

  /** The problem of a WAITING authorization whose grace period ran out. */
  public static Problem graceProblem(AuthorizationEvidence e, Duration grace) {
    return Problem.newBuilder()
        .setType(GRACE_EXPIRED)
        .setTitle("challenge invalid and authorization never became valid")
        .setDetail(
            "a challenge answer said invalid and the authorization was still "
                + e.getAuthorizationStatus().toString().toLowerCase(java.util.Locale.ROOT)
                + " after the grace period of "
                + grace
                + (e.getChallengeProblem() == null
                    ? ""
                    : "; the challenge's problem: " + e.getChallengeProblem().getDetail()))
        .build();
  }

  /** True for the authorization statuses that fail it (the CA's, or the pipeline's TIMED_OUT). */
  public static boolean isFailedStatus(AcmeStatus s) {
    return FAILED_STATUSES.contains(s);
  }

  /** A new decision and why, to emit once. */
  public record Verdict(Decision decision, String reason, boolean contradiction, Problem problem) {}

  public static boolean isFinal(Decision d) {
    return d == Decision.VALID || d == Decision.FAILED;
  }

  /** Evidence after a challenge observation. */
  public static AuthorizationEvidence withChallenge(
      AuthorizationEvidence e,
      AcmeStatus status,
      Problem problem,
      String identifier,
      String orderUrl) {
    AuthorizationEvidence.Builder b =
        AuthorizationEvidence.newBuilder(e).setChallengeStatus(status);
    if (status == AcmeStatus.INVALID) {
      b.setChallengeSaidInvalid(true);
      if (problem != null) {
        b.setChallengeProblem(problem);
      }
    }
    fill(b, identifier, orderUrl);
    return b.build();
  }

  /** Evidence after an authorization observation. */
  public static AuthorizationEvidence withAuthorization(
      AuthorizationEvidence e,
      AcmeStatus status,
      Problem problem,
      String identifier,
      String orderUrl) {
    AuthorizationEvidence.Builder b =
        AuthorizationEvidence.newBuilder(e).setAuthorizationStatus(status);
    if (problem != null) {
      b.setAuthorizationProblem(problem);
    }
    fill(b, identifier, orderUrl);
    return b.build();
  }

  private static void fill(AuthorizationEvidence.Builder b, String identifier, String orderUrl) {
    if (b.getIdentifier() == null && identifier != null && !identifier.equals("null")) {
      b.setIdentifier(identifier);
    }
    if (b.getOrderUrl() == null && orderUrl != null) {
      b.setOrderUrl(orderUrl);
    }
  }

  /**
   * The decision {@code e} calls for now, if it differs from the one already taken.
   *
   * @param nowMs wall-clock time, for the grace deadline
   */
  public static Optional<Verdict> decide(AuthorizationEvidence e, long nowMs, Duration grace) {
    Decision current = e.getDecision();
    if (isFinal(current)) {
      return Optional.empty();
    }
    AcmeStatus authz = e.getAuthorizationStatus();
    if (authz == AcmeStatus.VALID) {
      boolean contradiction = e.getChallengeSaidInvalid();
      return Optional.of(
          new Verdict(
              Decision.VALID,
              contradiction
                  ? "the authorization is valid although a challenge answer said invalid: the CA"
                      + " contradicted itself (RFC 8555 section 7.1.6); the authorization is"
                      + " authoritative"
                  : "the authorization is valid",
              contradiction,
              null));
    }
    if (FAILED_STATUSES.contains(authz)) {
      Problem problem =
          e.getAuthorizationProblem() != null
              ? e.getAuthorizationProblem()
              : e.getChallengeProblem();
      return Optional.of(
          new Verdict(
              Decision.FAILED,
              "the authorization is " + authz.toString().toLowerCase(java.util.Locale.ROOT),
              false,
              problem));
    }
    if (e.getChallengeSaidInvalid()) {
      if (current == Decision.WAITING && e.getWaitingSince() != null) {
        if (nowMs - e.getWaitingSince() >= grace.toMillis()) {
          Problem problem = graceProblem(e, grace);
          return Optional.of(
              new Verdict(
                  Decision.FAILED,
                  "challenge invalid and authorization never became valid within " + grace,
                  false,
                  problem));
        }
        return Optional.empty();
      }
      return Optional.of(
          new Verdict(
              Decision.WAITING,
              "a challenge answer said invalid but the authorization is "
                  + authz.toString().toLowerCase(java.util.Locale.ROOT)
                  + ": waiting for the authorization, which decides",
              false,
              e.getChallengeProblem()));
    }
    return Optional.empty();
  }
}
