package dev.renewal.config;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Configuration in three layers, each overriding the one before: built-in defaults, then a
 * properties file, then environment variables. An environment variable {@code RENEWAL_A_B_C} sets
 * the key {@code a.b.c}. Keys under {@code kafka.} pass through to the Kafka clients with the
 * prefix removed.
 *
 * <p>Values are read through a {@link Reader}, which collects every problem (missing, malformed,
 * out of range), each with where the value came from, and reports them all at once.
 */
public final class Settings {
  /** Environment variables with this prefix are configuration. */
  public static final String ENV_PREFIX = "RENEWAL_";

  private final Map<String, String> values;
  private final Map<String, String> origins;

  private Settings(Map<String, String> values, Map<String, String> origins) {
    this.values = Collections.unmodifiableMap(new TreeMap<>(values));
    this.origins = Collections.unmodifiableMap(new TreeMap<>(origins));
  }

  /**
   * Layers {@code defaults}, the properties {@code file} (if not null) and the {@code RENEWAL_*}
   * entries of {@code environment}.
   *
   * @throws ConfigException if the file cannot be read
   */
  public static Settings load(
      Map<String, String> defaults, Path file, Map<String, String> environment) {
    Map<String, String> values = new TreeMap<>();
    Map<String, String> origins = new TreeMap<>();
    defaults.forEach(
        (k, v) -> {
          values.put(k, v);
          origins.put(k, "default");
        });
    if (file != null) {
      Properties properties = new Properties();
      try (java.io.Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        properties.load(reader);
      } catch (IOException e) {
        throw new ConfigException(List.of("cannot read configuration file " + file + ": " + e));
      }
      for (String key : properties.stringPropertyNames()) {
        values.put(key, properties.getProperty(key).trim());
        origins.put(key, "file " + file);
      }
    }
    environment.forEach(
        (name, value) -> {
          if (name.startsWith(ENV_PREFIX) && name.length() > ENV_PREFIX.length()) {
            String key = envToKey(name);
            values.put(key, value.trim());
            origins.put(key, "environment " + name);
          }
        });
    return new Settings(values, origins);
  }

  /** Settings from a plain map (tests, embedded use). */
  public static Settings of(Map<String, String> values) {
    return load(values, null, Map.of());
  }

  /** {@code RENEWAL_KAFKA_BOOTSTRAP_SERVERS} becomes {@code kafka.bootstrap.servers}. */
  public static String envToKey(String name) {
    return name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
  }

  /** The environment variable that sets {@code key}. */
  public static String keyToEnv(String key) {
    return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  /** These settings with {@code overrides} on top (for tests and the embedded stack). */
  public Settings with(Map<String, String> overrides) {
    Map<String, String> v = new TreeMap<>(values);
    Map<String, String> o = new TreeMap<>(origins);
    overrides.forEach(
        (k, val) -> {
          v.put(k, val);
          o.put(k, "override");
        });
    return new Settings(v, o);
  }

  /** These settings with {@code defaults} added for every key that is not set. */
  public Settings withDefaults(Map<String, String> defaults) {
    Map<String, String> v = new TreeMap<>(values);
    Map<String, String> o = new TreeMap<>(origins);
    defaults.forEach(
        (k, val) -> {
          if (v.putIfAbsent(k, val) == null) {
            o.put(k, "default");
          }
        });
    return new Settings(v, o);
  }

  public Optional<String> raw(String key) {
    return Optional.ofNullable(values.get(key)).filter(s -> !s.isEmpty());
  }

  /** Where the value of {@code key} came from. */
  public String origin(String key) {
    return origins.getOrDefault(key, "unset");
  }

  /** Every key under {@code prefix} with the prefix removed, e.g. {@code kafka.} for clients. */
  public Map<String, Object> withPrefix(String prefix) {
    Map<String, Object> out = new TreeMap<>();
    values.forEach(
        (k, v) -> {
          if (k.startsWith(prefix) && !v.isEmpty()) {
            out.put(k.substring(prefix.length()), v);
          }
        });
    return out;
  }

  /** A reader that collects problems instead of throwing on the first. */
  public Reader reader() {
    return new Reader();
  }

  /** Reads typed values; call {@link #done()} to throw every problem found at once. */
  public final class Reader {
    private final List<String> problems = new ArrayList<>();

    private Reader() {}

    public String string(String key) {
      Optional<String> value = raw(key);
      if (value.isEmpty()) {
        problems.add(key + " is required (set it in the file or as " + keyToEnv(key) + ")");
        return "";
      }
      return value.get();
    }

    public Optional<String> optional(String key) {
      return raw(key);
    }

    public int integer(String key, int min, int max) {
      return (int) number(key, min, max);
    }

    public long number(String key, long min, long max) {
      String text = string(key);
      if (text.isEmpty()) {
        return min;
      }
      try {
        long value = Long.parseLong(text);
        if (value < min || value > max) {
          problem(key, text, "must be between " + min + " and " + max);
          return min;
        }
        return value;
      } catch (NumberFormatException e) {
        problem(key, text, "is not a whole number");
        return min;
      }
    }

    public boolean bool(String key) {
      String text = string(key).toLowerCase(Locale.ROOT);
      if (text.equals("true") || text.equals("false")) {
        return Boolean.parseBoolean(text);
      }
      if (!text.isEmpty()) {
        problem(key, text, "must be true or false");
      }
      return false;
    }

    /** A duration as {@code 250ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 1d} or ISO-8601. */
    public Duration duration(String key, Duration min, Duration max) {
      String text = string(key);
      if (text.isEmpty()) {
        return min;
      }
      try {
        Duration value = parseDuration(text);
        if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
          problem(key, text, "must be between " + min + " and " + max);
          return min;
        }
        return value;
      } catch (IllegalArgumentException e) {
        problem(key, text, "is not a duration (e.g. 250ms, 30s, 5m, 2h, 1d, PT30S)");
        return min;
      }
    }

    public URI uri(String key) {
      String text = string(key);
      if (text.isEmpty()) {
        return URI.create("http://invalid");
      }
      try {
        URI uri = new URI(text);
        if (uri.getScheme() == null || uri.getHost() == null) {
          problem(key, text, "is not an absolute URL");
        }
        return uri;
      } catch (java.net.URISyntaxException e) {
        problem(key, text, "is not a URL: " + e.getReason());
        return URI.create("http://invalid");
      }
    }

    public Path path(String key) {
      String text = string(key);
      return Path.of(text.isEmpty() ? "." : text);
    }

    /** Records a problem found by the caller's own check. */
    public void problem(String key, String value, String what) {
      problems.add(key + " = '" + value + "' (from " + origin(key) + ") " + what);
    }

    public List<String> problems() {
      return List.copyOf(problems);
    }

    /**
     * @throws ConfigException listing every problem found, if any
     */
    public void done() {
      if (!problems.isEmpty()) {
        throw new ConfigException(problems);
      }
    }
  }

  /**
   * The project's durations: {@code 250ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 1d}, or
   * ISO-8601 ({@code PT1M30S}, {@code -P1D}); throws {@link IllegalArgumentException} otherwise.
   */
  public static Duration parseDuration(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.startsWith("p") || t.startsWith("-p")) {
      try {
        return Duration.parse(t.toUpperCase(Locale.ROOT));
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException(text, e);
      }
    }
    String[][] units = {
      {"ms", "1"}, {"s", "1000"}, {"m", "60000"}, {"h", "3600000"}, {"d", "86400000"}
    };
    for (String[] unit : units) {
      if (t.endsWith(unit[0])) {
        String number = t.substring(0, t.length() - unit[0].length()).trim();
        if (!number.isEmpty() && number.chars().allMatch(Character::isDigit)) {
          return Duration.ofMillis(Long.parseLong(number) * Long.parseLong(unit[1]));
        }
      }
    }
    throw new IllegalArgumentException(text);
  }
}
