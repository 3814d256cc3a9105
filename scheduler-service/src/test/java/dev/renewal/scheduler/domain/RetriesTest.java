package dev.renewal.scheduler.domain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.events.AttemptOutcome;
import dev.renewal.events.DueReason;
import dev.renewal.events.RenewalAttempt;
import dev.renewal.scheduler.domain.Retries.Retry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RetriesTest {
  private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
  private static final Instant NOT_BEFORE = T0.minus(Duration.ofDays(30));
  private static final Instant NOT_AFTER = NOT_BEFORE.plus(Duration.ofDays(90));

  private static final RenewalPolicy WITH_FALLBACK =
      new RenewalPolicy(
          Optional.empty(),
          RenewalPolicy.RETRY_INITIAL,
          RenewalPolicy.RETRY_MAX,
          Optional.empty(),
          List.of("backup", "third"),
          3);

  private static RenewalPolicy policy(String profile) {
    return Map.of("main", WITH_FALLBACK).getOrDefault(profile, RenewalPolicy.DEFAULT);
  }

  /** A failed attempt on {@code profile}, made for {@code reason}, failed at {@code at}. */
  private static RenewalAttempt failure(
      int attempt, String profile, DueReason reason, Instant at, String problemType) {
    return RenewalAttempt.newBuilder()
        .setRequestId("r1")
        .setAttempt(attempt)
        .setRequestedAt(at.minusSeconds(30))
        .setOutcome(AttemptOutcome.FAILED)
        .setOutcomeAt(at)
        .setProblemType(problemType)
        .setRetryable(true)
        .setCaUnavailable(Retries.caUnavailable(problemType, null))
        .setCaProfile(profile)
        .setDueReason(reason)
        .setFailureEventId("f-" + attempt)
        .build();
  }

  private static RenewalAttempt timeout(int attempt, String profile, DueReason reason, Instant at) {
    return failure(attempt, profile, reason, at, "urn:renewal:problem:authorization-timeout");
  }

  private static Optional<Retry> next(List<RenewalAttempt> attempts) {
    return Retries.next("shop", attempts, "main", NOT_BEFORE, NOT_AFTER, RetriesTest::policy);
  }

  @Test
  void theBackOffDoublesFromTheFirstToTheLongest() {
    List<Duration> seen = new ArrayList<>();
    for (int n = 1; n <= 8; n++) {
      seen.add(Retries.backoff(n, Duration.ofHours(1), Duration.ofHours(32)));
    }
    assertThat(seen)
        .containsExactly(
            Duration.ofHours(1),
            Duration.ofHours(2),
            Duration.ofHours(4),
            Duration.ofHours(8),
            Duration.ofHours(16),
            Duration.ofHours(32),
            Duration.ofHours(32),
            Duration.ofHours(32));
    assertThat(Retries.backoff(1_000_000, Duration.ofSeconds(5), Duration.ofMinutes(1)))
        .isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void theJitterIsAtMostATenthEarlierAndTheSameForASeed() {
    Duration d = Duration.ofHours(10);
    for (int i = 0; i < 200; i++) {
      Duration j = Retries.jittered(d, "seed-" + i);
      assertThat(j).isBetween(Duration.ofHours(9), d);
      assertThat(Retries.jittered(d, "seed-" + i)).isEqualTo(j);
    }
    assertThat(Retries.jittered(d, "a")).isNotEqualTo(Retries.jittered(d, "b"));
  }

  @Test
  void aRetryableFailureIsRetriedOnTheSameProfileAfterTheBackOffOfItsSeries() {
    Instant failed = T0;
    Retry first = next(List.of(timeout(1, "main", DueReason.LIFETIME, failed))).orElseThrow();
    assertThat(first.reason()).isEqualTo(DueReason.RETRY);
    assertThat(first.caProfile()).isEqualTo("main");
    assertThat(first.fallbackFrom()).isNull();
    assertThat(first.at()).isBetween(failed.plus(Duration.ofMinutes(54)), failed.plusSeconds(3600));

    // The scheduler's second retry of the series: twice as long.
    Retry third =
        next(List.of(
                timeout(1, "main", DueReason.LIFETIME, failed),
                timeout(2, "main", DueReason.RETRY, failed.plusSeconds(3600))))
            .orElseThrow();
    Instant second = failed.plusSeconds(3600);
    assertThat(third.at())
        .isBetween(second.plus(Duration.ofMinutes(108)), second.plusSeconds(7200));
  }

  @Test
  void anAttemptTheSchedulerDidNotMakeStartsANewSeries() {
    // Two retries failed, then an operator replayed (reason UNKNOWN) or renewed (MANUAL) it.
    for (DueReason manual : List.of(DueReason.UNKNOWN, DueReason.MANUAL)) {
      Instant at = T0.plus(Duration.ofHours(5));
      Retry r =
          next(List.of(
                  timeout(1, "main", DueReason.LIFETIME, T0),
                  timeout(2, "main", DueReason.RETRY, T0.plusSeconds(3600)),
                  timeout(3, "backup", manual, at)))
              .orElseThrow();
      assertThat(r.at())
          .as(manual.toString())
          .isBetween(at.plus(Duration.ofMinutes(54)), at.plusSeconds(3600));
    }
  }

  @Test
  void failuresThatAreNotRetryableOrAnAttemptNotFailedAreNotRetried() {
    RenewalAttempt refused =
        RenewalAttempt.newBuilder(
                failure(
                    1,
                    "main",
                    DueReason.LIFETIME,
                    T0,
                    "urn:ietf:params:acme:error:rejectedIdentifier"))
            .setRetryable(false)
            .build();
    assertThat(next(List.of(refused))).isEmpty();
    RenewalAttempt pending =
        RenewalAttempt.newBuilder(timeout(2, "main", DueReason.RETRY, T0))
            .setOutcome(AttemptOutcome.PENDING)
            .build();
    assertThat(next(List.of(timeout(1, "main", DueReason.LIFETIME, T0), pending))).isEmpty();
    assertThat(next(List.of())).isEmpty();
  }

  @Test
  void withinTheUrgentPeriodTheBackOffIsAtMostAnHourAndALongerOneStopsAtItsStart() {
    // 90 days of life: urgent in the last 7 days (a tenth would be 9).
    Instant urgentFrom = NOT_AFTER.minus(Duration.ofDays(7));
    assertThat(Retries.urgent(Optional.empty(), NOT_BEFORE, NOT_AFTER))
        .isEqualTo(Duration.ofDays(7));
    assertThat(Retries.urgent(Optional.empty(), T0, T0.plus(Duration.ofDays(30))))
        .isEqualTo(Duration.ofDays(3));
    assertThat(Retries.urgent(Optional.of(Duration.ofHours(5)), NOT_BEFORE, NOT_AFTER))
        .isEqualTo(Duration.ofHours(5));

    // The sixth failure of a series: 32 h of back-off, but inside the urgent period one hour.
    List<RenewalAttempt> series = new ArrayList<>();
    series.add(timeout(1, "other", DueReason.LIFETIME, urgentFrom.plusSeconds(60)));
    for (int i = 2; i <= 6; i++) {
      series.add(timeout(i, "other", DueReason.RETRY, urgentFrom.plusSeconds(60L * i)));
    }
    Instant last = urgentFrom.plusSeconds(360);
    Retry inside =
        Retries.next("shop", series, "other", NOT_BEFORE, NOT_AFTER, RetriesTest::policy)
            .orElseThrow();
    assertThat(inside.at()).isEqualTo(last.plus(Retries.URGENT_CAP));

    // Before it: the 32 h that would run into it end at its start.
    List<RenewalAttempt> early = new ArrayList<>();
    Instant before = urgentFrom.minus(Duration.ofHours(3));
    early.add(timeout(1, "other", DueReason.LIFETIME, before.minusSeconds(50)));
    for (int i = 2; i <= 6; i++) {
      early.add(timeout(i, "other", DueReason.RETRY, before.minusSeconds(60 - 10L * i)));
    }
    Retry stopped =
        Retries.next("shop", early, "other", NOT_BEFORE, NOT_AFTER, RetriesTest::policy)
            .orElseThrow();
    assertThat(stopped.at()).isEqualTo(urgentFrom);

    // No certificate yet: as urgent as can be.
    Retry first =
        Retries.next(
                "shop",
                List.of(timeout(1, "other", DueReason.UNKNOWN, T0)),
                "other",
                null,
                null,
                RetriesTest::policy)
            .orElseThrow();
    assertThat(first.at()).isBetween(T0.plus(Duration.ofMinutes(54)), T0.plusSeconds(3600));
  }

  @Test
  void aRetryAfterIsHonouredUnlessItLiesPastTheUrgentPeriodThenTheNextProfileIsTried() {
    Instant soon = T0.plus(Duration.ofHours(6));
    RenewalAttempt limited =
        RenewalAttempt.newBuilder(
                failure(
                    1, "main", DueReason.LIFETIME, T0, "urn:ietf:params:acme:error:rateLimited"))
            .setRetryAfter(soon)
            .build();
    Retry waits = next(List.of(limited)).orElseThrow();
    assertThat(waits.at()).isEqualTo(soon);
    assertThat(waits.caProfile()).isEqualTo("main");

    Instant tooLate = NOT_AFTER.minus(Duration.ofDays(1));
    Retry elsewhere =
        next(List.of(RenewalAttempt.newBuilder(limited).setRetryAfter(tooLate).build()))
            .orElseThrow();
    assertThat(elsewhere.reason()).isEqualTo(DueReason.FALLBACK);
    assertThat(elsewhere.caProfile()).isEqualTo("backup");
    assertThat(elsewhere.at()).isEqualTo(T0);
  }

  /** The decision table: which failures fall back, and when. */
  @Test
  void anUnavailableCaFallsBackAtOnceOtherRetryableFailuresAfterFallbackAfterOnOneProfile() {
    String[][] unavailable = {
      {"urn:renewal:problem:network", "connection refused"},
      {"urn:renewal:problem:protocol", "HTTP 503 without a problem document"},
      {"urn:ietf:params:acme:error:serverInternal", "serverInternal"},
    };
    for (String[] row : unavailable) {
      Retry r = next(List.of(failure(1, "main", DueReason.LIFETIME, T0, row[0]))).orElseThrow();
      assertThat(r.reason()).as(row[1]).isEqualTo(DueReason.FALLBACK);
      assertThat(r.caProfile()).as(row[1]).isEqualTo("backup");
      assertThat(r.fallbackFrom()).isEqualTo("main");
      assertThat(r.at()).as(row[1] + ": a profile the series has not tried, at once").isEqualTo(T0);
    }
    assertThat(Retries.caUnavailable("urn:ietf:params:acme:error:malformed", 503)).isTrue();
    assertThat(Retries.caUnavailable("urn:ietf:params:acme:error:rateLimited", 429)).isFalse();
    assertThat(Retries.caUnavailable("urn:ietf:params:acme:error:badCSR", 400)).isFalse();

    // A timeout: retried on main twice, the third in a row falls back.
    List<RenewalAttempt> attempts = new ArrayList<>();
    attempts.add(timeout(1, "main", DueReason.LIFETIME, T0));
    assertThat(next(attempts).orElseThrow().caProfile()).isEqualTo("main");
    attempts.add(timeout(2, "main", DueReason.RETRY, T0.plusSeconds(3600)));
    assertThat(next(attempts).orElseThrow().caProfile()).isEqualTo("main");
    attempts.add(timeout(3, "main", DueReason.RETRY, T0.plusSeconds(3 * 3600)));
    Retry third = next(attempts).orElseThrow();
    assertThat(third.reason()).isEqualTo(DueReason.FALLBACK);
    assertThat(third.caProfile()).isEqualTo("backup");
    assertThat(third.at()).isEqualTo(T0.plusSeconds(3 * 3600));
  }

  @Test
  void theChainIsTriedInOrderAndComesRoundAgainAfterTheBackOff() {
    assertThat(Retries.chain("main", RetriesTest::policy))
        .containsExactly("main", "backup", "third");
    assertThat(Retries.chain("other", RetriesTest::policy)).containsExactly("other");
    String down = "urn:renewal:problem:network";
    List<RenewalAttempt> attempts = new ArrayList<>();
    attempts.add(failure(1, "main", DueReason.LIFETIME, T0, down));
    attempts.add(failure(2, "backup", DueReason.FALLBACK, T0.plusSeconds(60), down));
    Retry toThird = next(attempts).orElseThrow();
    assertThat(toThird.caProfile()).isEqualTo("third");
    assertThat(toThird.at()).isEqualTo(T0.plusSeconds(60));
    attempts.add(failure(3, "third", DueReason.FALLBACK, T0.plusSeconds(120), down));
    Retry round = next(attempts).orElseThrow();
    assertThat(round.caProfile()).isEqualTo("main");
    assertThat(round.reason()).isEqualTo(DueReason.FALLBACK);
    // The series' third failure: four hours of back-off, less the jitter.
    Instant last = T0.plusSeconds(120);
    assertThat(round.at())
        .isBetween(last.plus(Duration.ofMinutes(216)), last.plusSeconds(4 * 3600));
  }

  @Test
  void withoutAFallbackAnUnavailableCaIsRetriedOnItsOwnProfile() {
    Retry r =
        Retries.next(
                "shop",
                List.of(failure(1, "other", DueReason.LIFETIME, T0, "urn:renewal:problem:network")),
                "other",
                NOT_BEFORE,
                NOT_AFTER,
                RetriesTest::policy)
            .orElseThrow();
    assertThat(r.reason()).isEqualTo(DueReason.RETRY);
    assertThat(r.caProfile()).isEqualTo("other");
  }
}
