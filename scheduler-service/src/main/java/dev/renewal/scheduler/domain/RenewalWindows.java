package dev.renewal.scheduler.domain;

import dev.renewal.events.CurrentCertificate;
import dev.renewal.events.DueReason;
import dev.renewal.events.RenewalInfoObserved;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * What a CA's renewal information (RFC 9773) means for a certificate: pure functions.
 *
 * <ul>
 *   <li>The certificate is renewed at a point of the suggested window chosen uniformly at random
 *       (§4.2), from a seed of its name, its certificate id and the window: the same point on every
 *       machine and after every restart, a new one when the CA moves the window.
 *   <li>A window that had already ended when it was observed means renew now ({@code
 *       ARI_WINDOW_PASSED}); one ending after the certificate expires is not believed (the lifetime
 *       rule stands).
 *   <li>The information is fetched again at its Retry-After, clamped to one minute .. one day after
 *       the answer, six hours after it when the CA gave none; the same after a failed fetch.
 * </ul>
 */
public final class RenewalWindows {
  static final Duration MIN_RETRY = Duration.ofMinutes(1);
  static final Duration MAX_RETRY = Duration.ofDays(1);
  static final Duration DEFAULT_RETRY = Duration.ofHours(6);

  private RenewalWindows() {}

  /** When to fetch again after an answer at {@code at} that said {@code retryAfter}. */
  public static Instant nextFetch(Instant at, Optional<Instant> retryAfter) {
    if (retryAfter.isEmpty()) {
      return at.plus(DEFAULT_RETRY);
    }
    Instant earliest = at.plus(MIN_RETRY);
    Instant latest = at.plus(MAX_RETRY);
    Instant told = retryAfter.get();
    return told.isBefore(earliest) ? earliest : told.isAfter(latest) ? latest : told;
  }

  /**
   * The point of [{@code start}, {@code end}) at which certificate {@code ariCertId} is renewed.
   */
  public static Instant point(String name, String ariCertId, Instant start, Instant end) {
    long span = Duration.between(start, end).toMillis();
    if (span <= 0) {
      return start;
    }
    double u = RenewalTime.fraction(name + ":" + ariCertId + ":" + start + ":" + end);
    return start.plusMillis((long) Math.floor(u * span));
  }

  /** A renewal the CA's window asks for: when, why, the CA's explanation. */
  public record Due(Instant at, DueReason reason, String explanationUrl) {}

  /**
   * The renewal {@code info} implies for {@code current}: empty when it is about another
   * certificate, has no window (a failed fetch) or a window past the expiry.
   */
  public static Optional<Due> due(
      String name, CurrentCertificate current, RenewalInfoObserved info) {
    if (info == null
        || current == null
        || current.getAriCertId() == null
        || !current.getAriCertId().equals(info.getAriCertId())
        || info.getWindowStart() == null
        || info.getWindowEnd() == null
        || info.getWindowEnd().isAfter(current.getNotAfter())) {
      return Optional.empty();
    }
    if (!info.getWindowEnd().isAfter(info.getOccurredAt())) {
      return Optional.of(
          new Due(info.getOccurredAt(), DueReason.ARI_WINDOW_PASSED, info.getExplanationUrl()));
    }
    return Optional.of(
        new Due(
            point(name, info.getAriCertId(), info.getWindowStart(), info.getWindowEnd()),
            DueReason.ARI_WINDOW,
            info.getExplanationUrl()));
  }
}
