package dev.renewal.acme;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
  private final RetryPolicy policy =
      new RetryPolicy(
          5,
          Duration.ofMillis(100),
          Duration.ofMillis(50),
          Duration.ofSeconds(30),
          Duration.ofMinutes(2));
  private final Instant start = Instant.parse("2026-11-27T00:00:00Z");

  @Test
  void retryAfterFromTheCaIsHonouredExactly() {
    Instant now = start.plusSeconds(1);
    assertThat(policy.nextDelay(1, Optional.of(now.plusSeconds(7)), start, now))
        .contains(Duration.ofSeconds(7));
  }

  @Test
  void anAbsurdRetryAfterIsClampedToTheMaximum() {
    assertThat(policy.nextDelay(1, Optional.of(start.plus(Duration.ofDays(3))), start, start))
        .contains(Duration.ofSeconds(30));
  }

  @Test
  void aRetryAfterInThePastIsClampedToTheMinimumNotABusyLoop() {
    assertThat(policy.nextDelay(1, Optional.of(start.minusSeconds(5)), start, start))
        .contains(Duration.ofMillis(50));
  }

  @Test
  void withoutRetryAfterTheBackOffGrowsExponentiallyWithJitter() {
    for (int attempt = 1; attempt <= 4; attempt++) {
      long base = 100L << (attempt - 1);
      Duration d = policy.nextDelay(attempt, Optional.empty(), start, start).orElseThrow();
      assertThat(d.toMillis()).isBetween(Math.max(50, base / 2), base);
    }
  }

  @Test
  void noAttemptIsLeftAfterMaxAttempts() {
    assertThat(policy.nextDelay(5, Optional.empty(), start, start)).isEmpty();
  }

  @Test
  void noRetryThatWouldEndPastTheBudget() {
    Instant late = start.plus(Duration.ofMinutes(2)).minusSeconds(5);
    assertThat(policy.nextDelay(1, Optional.of(late.plusSeconds(10)), start, late)).isEmpty();
    assertThat(policy.nextDelay(1, Optional.of(late.plusSeconds(2)), start, late)).isPresent();
  }
}
