package dev.renewal.acme;

import dev.renewal.config.Settings;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The CA profiles the operator configured, from {@code ca.profiles} (a comma-separated list of
 * names) and {@code ca.<name>.*} keys. Every problem of every profile is reported at once.
 */
public final class CaProfiles {
  private final Map<String, CaProfile> profiles;

  private CaProfiles(Map<String, CaProfile> profiles) {
    this.profiles = Map.copyOf(profiles);
  }

  public static CaProfiles of(CaProfile... profiles) {
    Map<String, CaProfile> map = new LinkedHashMap<>();
    for (CaProfile p : profiles) {
      map.put(p.name(), p);
    }
    return new CaProfiles(map);
  }

  /** Defaults of every {@code ca.<name>.*} key, for documentation and for {@link #from}. */
  public static Map<String, String> defaults(String name) {
    String p = "ca." + name + ".";
    return Map.ofEntries(
        Map.entry(p + "terms.agreed", "false"),
        Map.entry(p + "max.in.flight", "16"),
        Map.entry(p + "max.requests.per.second", "50"),
        Map.entry(p + "http.timeout", "10s"),
        Map.entry(p + "retry.max.attempts", "8"),
        Map.entry(p + "retry.initial.backoff", "500ms"),
        Map.entry(p + "retry.min.delay", "50ms"),
        Map.entry(p + "retry.max.delay", "5m"),
        Map.entry(p + "retry.budget", "30m"),
        Map.entry(p + "authorization.deadline", "10m"),
        Map.entry(p + "order.deadline", "1h"));
  }

  /** The profile names {@code ca.profiles} lists, as written. */
  public static List<String> listed(Settings settings) {
    return Arrays.stream(settings.raw("ca.profiles").orElse("").split(","))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .toList();
  }

  /** Reads every profile named in {@code ca.profiles}. */
  public static CaProfiles from(Settings settings) {
    List<String> names = listed(settings);
    Settings s = settings;
    for (String name : names) {
      s = s.withDefaults(defaults(name));
    }
    Settings.Reader r = s.reader();
    if (names.isEmpty()) {
      r.problem("ca.profiles", "", "must name at least one CA profile, e.g. ca.profiles=pebble");
    }
    Map<String, CaProfile> profiles = new LinkedHashMap<>();
    for (String name : names) {
      String p = "ca." + name + ".";
      if (!name.matches("[a-z0-9][a-z0-9_-]*")) {
        r.problem("ca.profiles", name, "profile names are lower-case letters, digits, '-' and '_'");
      }
      URI directory = r.uri(p + "directory.url");
      if (!"https".equals(directory.getScheme()) && !"http".equals(directory.getScheme())) {
        r.problem(p + "directory.url", directory.toString(), "must be an http(s) URL");
      }
      Optional<Path> trust = r.optional(p + "trust.pem").map(Path::of);
      trust.ifPresent(
          t -> {
            if (!Files.isReadable(t)) {
              r.problem(p + "trust.pem", t.toString(), "is not a readable file");
            }
          });
      Optional<String> kid = r.optional(p + "eab.kid");
      Optional<String> hmac = r.optional(p + "eab.hmac");
      if (kid.isPresent() != hmac.isPresent()) {
        r.problem(p + "eab.kid", kid.orElse(""), "and " + p + "eab.hmac must be set together");
      }
      List<String> contacts =
          r.optional(p + "contact").stream()
              .flatMap(c -> Arrays.stream(c.split(",")))
              .map(String::trim)
              .filter(c -> !c.isEmpty())
              .toList();
      for (String c : contacts) {
        if (!c.startsWith("mailto:")) {
          r.problem(p + "contact", c, "must be mailto: URIs");
        }
      }
      RetryPolicy retry =
          new RetryPolicy(
              r.integer(p + "retry.max.attempts", 1, 1000),
              r.duration(p + "retry.initial.backoff", Duration.ofMillis(1), Duration.ofHours(1)),
              r.duration(p + "retry.min.delay", Duration.ZERO, Duration.ofHours(1)),
              r.duration(p + "retry.max.delay", Duration.ofMillis(1), Duration.ofDays(1)),
              r.duration(p + "retry.budget", Duration.ofSeconds(1), Duration.ofDays(7)));
      profiles.put(
          name,
          new CaProfile(
              name,
              directory,
              trust,
              kid,
              hmac,
              contacts,
              r.bool(p + "terms.agreed"),
              r.integer(p + "max.in.flight", 1, 10_000),
              r.number(p + "max.requests.per.second", 1, 100_000),
              r.duration(p + "http.timeout", Duration.ofMillis(100), Duration.ofMinutes(5)),
              retry,
              r.duration(p + "authorization.deadline", Duration.ofSeconds(1), Duration.ofDays(7)),
              r.duration(p + "order.deadline", Duration.ofSeconds(1), Duration.ofDays(7))));
    }
    r.done();
    return new CaProfiles(profiles);
  }

  public Optional<CaProfile> get(String name) {
    return Optional.ofNullable(profiles.get(name));
  }

  public Set<String> names() {
    return profiles.keySet();
  }
}
