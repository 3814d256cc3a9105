package dev.renewal.challenge.handler;

import dev.renewal.challenge.domain.AuthorizationView;
import dev.renewal.challenge.domain.ChallengeView;
import dev.renewal.events.AcmeStatus;
import dev.renewal.events.AuthorizationObserved;
import dev.renewal.events.AuthorizationWork;
import dev.renewal.events.ChallengeObserved;
import dev.renewal.events.ChallengeRecord;
import dev.renewal.events.ObservationSource;
import dev.renewal.events.Problem;
import java.time.Instant;
import java.util.UUID;

/** The observations challenge-service emits, built in one place. */
final class ChallengeEvents {
  private ChallengeEvents() {}

  /**
   * The authorization as read ({@code POLL}); its problem is the challenge's error unless valid.
   */
  static AuthorizationObserved authorization(
      ChallengeRecord record,
      AuthorizationWork work,
      AuthorizationView view,
      boolean reused,
      Instant at) {
    return observed(record, work, at)
        .setIdentifier(view.identifier())
        .setWildcard(view.wildcard())
        .setStatus(view.status())
        .setRawStatus(view.rawStatus().orElse(null))
        .setSource(ObservationSource.POLL)
        .setProblem(
            view.status() == AcmeStatus.VALID
                ? null
                : view.challenge().flatMap(ChallengeView::error).orElse(null))
        .setExpires(view.expires().orElse(null))
        .setReused(reused)
        .build();
  }

  /** {@code TIMED_OUT} at the deadline ({@code DEADLINE}): no answer of the CA, our decision. */
  static AuthorizationObserved timedOut(
      ChallengeRecord record, AuthorizationWork work, Problem problem, Instant at) {
    return observed(record, work, at)
        .setIdentifier(String.valueOf(work.getIdentifier()))
        .setStatus(AcmeStatus.TIMED_OUT)
        .setRawStatus(null)
        .setSource(ObservationSource.DEADLINE)
        .setProblem(problem)
        .build();
  }

  private static AuthorizationObserved.Builder observed(
      ChallengeRecord record, AuthorizationWork work, Instant at) {
    return AuthorizationObserved.newBuilder()
        .setEventId(UUID.randomUUID().toString())
        .setRequestId(record.getRequestId())
        .setOccurredAt(at)
        .setOrderUrl(record.getOrderUrl())
        .setAuthorizationUrl(work.getAuthorizationUrl());
  }

  /** The challenge as the trigger's answer or a poll described it. */
  static ChallengeObserved challenge(
      ChallengeRecord record,
      AuthorizationWork work,
      ChallengeView challenge,
      ObservationSource source,
      Instant at) {
    return ChallengeObserved.newBuilder()
        .setEventId(UUID.randomUUID().toString())
        .setRequestId(record.getRequestId())
        .setOccurredAt(at)
        .setOrderUrl(record.getOrderUrl())
        .setAuthorizationUrl(work.getAuthorizationUrl())
        .setChallengeUrl(challenge.url())
        .setChallengeType(record.getRequest().getChallengeType())
        .setIdentifier(String.valueOf(work.getIdentifier()))
        .setStatus(challenge.status())
        .setRawStatus(challenge.rawStatus().orElse(null))
        .setSource(source)
        .setProblem(challenge.error().orElse(null))
        .build();
  }
}
