package dev.renewal.scheduler.domain;

import dev.renewal.config.Settings;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * When a certificate is due for renewal: a pure function of its validity, the {@code
 * renewal.before} rule (the request's, else the CA profile's, else the default) and its name.
 *
 * <ul>
 *   <li>By default when a third of the lifetime remains, a half when the lifetime is under 10 days
 *       (certbot's rule; cert-manager renews at two thirds of the lifetime too).
 *   <li>{@code renewal.before} as a duration (as every duration of the configuration: {@code 30d},
 *       {@code 12h}, {@code 90m}, {@code 45s}, ISO-8601 {@code P30D}) leaves that much of the
 *       lifetime (all of it when longer: due at once), or as a percentage of the lifetime ({@code
 *       33%}).
 *   <li>A jitter per name spreads the certificates issued in the same minute: up to 2 % of the
 *       lifetime earlier, the same for a name on every machine and run (from its SHA-256), never
 *       later, so never past the expiry and never before the certificate's start.
 * </ul>
 */
public final class RenewalTime {
  /** The jitter's bound, as a share of the lifetime. */
  static final double JITTER = 0.02;

  private static final Duration SHORT = Duration.ofDays(10);

  private RenewalTime() {}

  /** A {@code renewal.before} rule: a duration left, or a share of the lifetime left. */
  public record Before(Duration left, double share) {
    public Before {
      if ((left == null) == (share <= 0)) {
        throw new IllegalArgumentException("a duration or a share, not both");
      }
    }

    /**
     * Reads a duration ({@link Settings#parseDuration}: {@code 30d}, {@code 12h}, {@code P30D} ...)
     * or {@code 33%} (more than 0, less than 100); throws with the reason otherwise.
     */
    public static Before parse(String text) {
      String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
      if (t.endsWith("%")) {
        double percent;
        try {
          percent = Double.parseDouble(t.substring(0, t.length() - 1).trim());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("not a percentage: " + text);
        }
        if (!(percent > 0 && percent < 100)) {
          throw new IllegalArgumentException(
              "a percentage of the lifetime must be more than 0 and less than 100: " + text);
        }
        return new Before(null, percent / 100);
      }
      Duration d;
      try {
        d = Settings.parseDuration(t);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "not a duration (30d, 12h, 90m, 45s, P30D) or a percentage (33%): " + text);
      }
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("must be more than zero: " + text);
      }
      return new Before(d, 0);
    }

    @Override
    public String toString() {
      return left != null ? left.toString() : String.format(Locale.ROOT, "%.4g%%", share * 100);
    }
  }

  /** How much of a lifetime is left when the certificate is due, before the jitter. */
  static Duration left(Duration lifetime, Optional<Before> before) {
    if (before.isPresent()) {
      Before b = before.get();
      if (b.left() != null) {
        return b.left().compareTo(lifetime) > 0 ? lifetime : b.left();
      }
      return Duration.ofMillis(Math.round(lifetime.toMillis() * b.share()));
    }
    return lifetime.compareTo(SHORT) < 0 ? lifetime.dividedBy(2) : lifetime.dividedBy(3);
  }

  /**
   * When the certificate valid from {@code notBefore} to {@code notAfter} named {@code name} is due
   * for renewal under {@code before} (empty: the default rule). Past times mean due now; the caller
   * compares with its clock.
   */
  public static Instant due(
      String name, Instant notBefore, Instant notAfter, Optional<Before> before) {
    Duration lifetime = Duration.between(notBefore, notAfter);
    if (lifetime.isNegative() || lifetime.isZero()) {
      return notBefore;
    }
    Instant base = notAfter.minus(left(lifetime, before));
    long jitter = Math.round(lifetime.toMillis() * JITTER * fraction(name));
    Instant due = base.minusMillis(jitter);
    return due.isBefore(notBefore) ? notBefore : due;
  }

  /** A number in [0, 1) that only {@code name} gives: the first 8 bytes of its SHA-256. */
  static double fraction(String name) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
      long bits = 0;
      for (int i = 0; i < 8; i++) {
        bits = (bits << 8) | (h[i] & 0xff);
      }
      return (bits >>> 11) / (double) (1L << 53);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }
}
