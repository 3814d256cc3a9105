package dev.renewal.acme;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * How often an authorization is re-read while the CA validates: the CA's Retry-After when it sends
 * one (clamped to [{@code initial}, {@code max}]), otherwise {@code initial} doubling up to {@code
 * max}. Pebble sends no Retry-After and validates in milliseconds; real CAs take seconds.
 */
public record PollPolicy(Duration initial, Duration max) {

  public Duration next(int poll, Optional<Instant> retryAfter, Instant now) {
    Duration d =
        retryAfter
            .map(at -> Duration.between(now, at))
            .orElseGet(() -> initial.multipliedBy(1L << Math.min(poll - 1, 20)));
    if (d.compareTo(initial) < 0) {
      return initial;
    }
    return d.compareTo(max) > 0 ? max : d;
  }
}
