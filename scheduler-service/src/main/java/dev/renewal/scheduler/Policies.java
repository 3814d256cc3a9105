package dev.renewal.scheduler;

import dev.renewal.config.Settings;
import dev.renewal.scheduler.domain.RenewalPolicy;
import dev.renewal.scheduler.domain.RenewalTime.Before;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads each CA profile's {@link RenewalPolicy}: for every profile {@code p} of {@code
 * ca.profiles},
 *
 * <ul>
 *   <li>{@code ca.p.renewal.before}: a duration or a percentage of the lifetime (none: a third
 *       left, a half under 10 days);
 *   <li>{@code ca.p.renewal.retry.initial} (1h) and {@code ca.p.renewal.retry.max} (32h): the
 *       back-off of a failing certificate's retries, from 1 second to 30 days;
 *   <li>{@code ca.p.renewal.urgent}: within this much of the expiry the back-off is at most an hour
 *       (none: 7 days or a tenth of the lifetime, whichever is shorter);
 *   <li>{@code ca.p.fallback}: profiles to try in turn when p keeps failing (each one of {@code
 *       ca.profiles}, not p), and {@code ca.p.fallback.after} (3): after how many consecutive
 *       retryable failures on one profile;
 *   <li>{@code ca.p.revoke.superseded} (false): revoke a certificate of p, reason superseded, once
 *       its renewal is issued.
 * </ul>
 *
 * Every problem is reported with its key.
 */
final class Policies {
  private Policies() {}

  static Map<String, RenewalPolicy> read(Settings settings, List<String> profiles) {
    Map<String, String> defaults = new HashMap<>();
    for (String p : profiles) {
      defaults.put("ca." + p + ".renewal.retry.initial", "1h");
      defaults.put("ca." + p + ".renewal.retry.max", "32h");
      defaults.put("ca." + p + ".fallback.after", String.valueOf(RenewalPolicy.FALLBACK_AFTER));
      defaults.put("ca." + p + ".revoke.superseded", "false");
    }
    Settings.Reader r = settings.withDefaults(defaults).reader();
    Map<String, RenewalPolicy> policies = new HashMap<>();
    for (String p : profiles) {
      String prefix = "ca." + p + ".";
      Optional<Before> before = Optional.empty();
      Optional<String> beforeText = r.optional(prefix + "renewal.before");
      if (beforeText.isPresent()) {
        try {
          before = Optional.of(Before.parse(beforeText.get()));
        } catch (IllegalArgumentException e) {
          r.problem(prefix + "renewal.before", beforeText.get(), e.getMessage());
        }
      }
      Duration initial =
          r.duration(prefix + "renewal.retry.initial", Duration.ofSeconds(1), Duration.ofDays(30));
      Duration max =
          r.duration(prefix + "renewal.retry.max", Duration.ofSeconds(1), Duration.ofDays(30));
      if (max.compareTo(initial) < 0) {
        r.problem(
            prefix + "renewal.retry.max",
            max.toString(),
            "is shorter than " + prefix + "renewal.retry.initial (" + initial + ")");
        max = initial;
      }
      Optional<Duration> urgent = Optional.empty();
      if (r.optional(prefix + "renewal.urgent").isPresent()) {
        urgent =
            Optional.of(
                r.duration(prefix + "renewal.urgent", Duration.ofMinutes(1), Duration.ofDays(365)));
      }
      List<String> fallbacks =
          r.optional(prefix + "fallback").stream()
              .flatMap(t -> Arrays.stream(t.split(",")))
              .map(String::trim)
              .filter(t -> !t.isEmpty())
              .toList();
      for (String f : fallbacks) {
        if (f.equals(p)) {
          r.problem(prefix + "fallback", String.join(",", fallbacks), "names the profile itself");
        } else if (!profiles.contains(f)) {
          r.problem(
              prefix + "fallback",
              String.join(",", fallbacks),
              "names '" + f + "', which is not one of ca.profiles " + profiles);
        }
      }
      int after = r.integer(prefix + "fallback.after", 1, 1000);
      boolean revokeSuperseded = r.bool(prefix + "revoke.superseded");
      policies.put(
          p, new RenewalPolicy(before, initial, max, urgent, fallbacks, after, revokeSuperseded));
    }
    r.done();
    return policies;
  }
}
