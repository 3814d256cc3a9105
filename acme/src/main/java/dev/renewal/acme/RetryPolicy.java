package dev.renewal.acme;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When to try again after a transient failure. A CA's Retry-After wins (clamped to [{@code
 * minDelay}, {@code maxDelay}], since CAs send absurd values too); without one, exponential
 * back-off from {@code initialBackoff} with jitter. The whole stage has a {@code budget}: once
 * spent, or after {@code maxAttempts}, the failure is final (and retryable by a replay).
 */
public record RetryPolicy(
    int maxAttempts,
    Duration initialBackoff,
    Duration minDelay,
    Duration maxDelay,
    Duration budget) {

  /** Defaults fit for a public CA. */
  public static RetryPolicy defaults() {
    return new RetryPolicy(
        8,
        Duration.ofMillis(500),
        Duration.ofMillis(50),
        Duration.ofMinutes(5),
        Duration.ofMinutes(30));
  }

  /**
   * The delay before attempt {@code attempt + 1}, or empty when no attempt is left.
   *
   * @param attempt the attempt that just failed, from 1
   * @param retryAfter what the CA asked for, if anything
   * @param started when the stage's first attempt began
   */
  public Optional<Duration> nextDelay(
      int attempt, Optional<Instant> retryAfter, Instant started, Instant now) {
    if (attempt >= maxAttempts) {
      return Optional.empty();
    }
    Duration delay;
    if (retryAfter.isPresent()) {
      delay = clamp(Duration.between(now, retryAfter.get()));
    } else {
      long base = initialBackoff.toMillis() << Math.min(attempt - 1, 20);
      long capped = Math.min(base, maxDelay.toMillis());
      delay =
          clamp(
              Duration.ofMillis(capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1)));
    }
    if (now.plus(delay).isAfter(started.plus(budget))) {
      return Optional.empty();
    }
    return Optional.of(delay);
  }

  private Duration clamp(Duration d) {
    if (d.compareTo(minDelay) < 0) {
      return minDelay;
    }
    return d.compareTo(maxDelay) > 0 ? maxDelay : d;
  }
}
