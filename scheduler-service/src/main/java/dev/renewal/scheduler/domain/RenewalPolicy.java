package dev.renewal.scheduler.domain;

import dev.renewal.scheduler.domain.RenewalTime.Before;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What a CA profile's configuration says about renewing its certificates: when ({@code
 * ca.<profile>.renewal.before}), how to retry a failure ({@code renewal.retry.initial}, {@code
 * renewal.retry.max}, {@code renewal.urgent}) and where to go when it keeps failing ({@code
 * ca.<profile>.fallback}, {@code ca.<profile>.fallback.after}), and whether a certificate its
 * renewal superseded is revoked ({@code ca.<profile>.revoke.superseded}).
 *
 * @param before the lifetime rule; empty: the default ({@link RenewalTime})
 * @param retryInitial the back-off after the first failure of a series, doubled after each next
 * @param retryMax the longest back-off
 * @param urgent how long before the expiry the back-off is capped at an hour; empty: 7 days or a
 *     tenth of the lifetime, whichever is shorter
 * @param fallbacks the profiles to try, in order, when this one keeps failing
 * @param fallbackAfter consecutive retryable failures on a profile before the next one is tried
 *     (the policy of a request's own profile governs its whole chain)
 * @param revokeSuperseded revoke a certificate of this profile (reason superseded) once its renewal
 *     is issued
 */
public record RenewalPolicy(
    Optional<Before> before,
    Duration retryInitial,
    Duration retryMax,
    Optional<Duration> urgent,
    List<String> fallbacks,
    int fallbackAfter,
    boolean revokeSuperseded) {
  public static final Duration RETRY_INITIAL = Duration.ofHours(1);
  public static final Duration RETRY_MAX = Duration.ofHours(32);
  public static final int FALLBACK_AFTER = 3;

  /** A profile with nothing configured. */
  public static final RenewalPolicy DEFAULT =
      new RenewalPolicy(
          Optional.empty(),
          RETRY_INITIAL,
          RETRY_MAX,
          Optional.empty(),
          List.of(),
          FALLBACK_AFTER,
          false);

  /** A policy that does not revoke what its renewals supersede. */
  public RenewalPolicy(
      Optional<Before> before,
      Duration retryInitial,
      Duration retryMax,
      Optional<Duration> urgent,
      List<String> fallbacks,
      int fallbackAfter) {
    this(before, retryInitial, retryMax, urgent, fallbacks, fallbackAfter, false);
  }

  public RenewalPolicy {
    if (retryInitial.isNegative() || retryInitial.isZero()) {
      throw new IllegalArgumentException("the first back-off must be more than zero");
    }
    if (retryMax.compareTo(retryInitial) < 0) {
      throw new IllegalArgumentException(
          "the longest back-off ("
              + retryMax
              + ") is shorter than the first ("
              + retryInitial
              + ")");
    }
    if (fallbackAfter < 1) {
      throw new IllegalArgumentException("fallback.after must be at least 1");
    }
    fallbacks = List.copyOf(fallbacks);
  }

  public RenewalPolicy withBefore(Optional<Before> b) {
    return new RenewalPolicy(
        b, retryInitial, retryMax, urgent, fallbacks, fallbackAfter, revokeSuperseded);
  }

  public RenewalPolicy withRevokeSuperseded(boolean revoke) {
    return new RenewalPolicy(
        before, retryInitial, retryMax, urgent, fallbacks, fallbackAfter, revoke);
  }
}
