package dev.renewal.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {
  @TempDir Path dir;

  @Test
  void theFileOverridesDefaultsAndTheEnvironmentOverridesTheFile() throws IOException {
    Path file = dir.resolve("renewal.properties");
    Files.writeString(file, "topics.partitions=6\nkafka.bootstrap.servers=file:9092\n");
    Settings s =
        Settings.load(
            Map.of("topics.partitions", "3", "topics.prefix", "", "kafka.bootstrap.servers", "x"),
            file,
            Map.of("RENEWAL_KAFKA_BOOTSTRAP_SERVERS", "env:9092", "PATH", "/usr/bin"));
    assertThat(s.reader().integer("topics.partitions", 1, 100)).isEqualTo(6);
    assertThat(s.origin("topics.partitions")).isEqualTo("file " + file);
    assertThat(s.raw("kafka.bootstrap.servers")).contains("env:9092");
    assertThat(s.origin("kafka.bootstrap.servers"))
        .isEqualTo("environment RENEWAL_KAFKA_BOOTSTRAP_SERVERS");
    assertThat(s.raw("path")).isEmpty();
  }

  @Test
  void kafkaKeysPassThroughWithoutTheirPrefix() {
    Settings s =
        Settings.of(
            Map.of("kafka.bootstrap.servers", "b:9092", "kafka.linger.ms", "5", "other", "x"));
    assertThat(s.withPrefix("kafka."))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("bootstrap.servers", "b:9092", "linger.ms", "5"));
  }

  @Test
  void everyProblemIsReportedAtOnceWithWhereTheValueCameFrom() {
    Settings s =
        Settings.load(
            Map.of("a.port", "http", "b.timeout", "soon"),
            null,
            Map.of("RENEWAL_C_COUNT", "100000"));
    Settings.Reader r = s.reader();
    r.integer("a.port", 1, 65535);
    r.duration("b.timeout", Duration.ZERO, Duration.ofHours(1));
    r.integer("c.count", 1, 10);
    r.string("d.required");
    assertThatThrownBy(r::done)
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.problems()).hasSize(4);
              assertThat(e.getMessage())
                  .contains("a.port = 'http' (from default) is not a whole number")
                  .contains("b.timeout = 'soon' (from default) is not a duration")
                  .contains(
                      "c.count = '100000' (from environment RENEWAL_C_COUNT) must be between 1 and 10")
                  .contains("d.required is required (set it in the file or as RENEWAL_D_REQUIRED)");
            });
  }

  @Test
  void durationsReadInShortAndIsoForms() {
    assertThat(Settings.parseDuration("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(Settings.parseDuration("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Settings.parseDuration("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(Settings.parseDuration("2h")).isEqualTo(Duration.ofHours(2));
    assertThat(Settings.parseDuration("1d")).isEqualTo(Duration.ofDays(1));
    assertThat(Settings.parseDuration("PT1M30S")).isEqualTo(Duration.ofSeconds(90));
    assertThatThrownBy(() -> Settings.parseDuration("-5s"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void defaultsFillOnlyWhatIsUnset() {
    Settings s = Settings.of(Map.of("x", "1")).withDefaults(Map.of("x", "2", "y", "3"));
    assertThat(s.raw("x")).contains("1");
    assertThat(s.raw("y")).contains("3");
    assertThat(s.origin("y")).isEqualTo("default");
  }

  @Test
  void environmentNamesMapToKeysBothWays() {
    assertThat(Settings.envToKey("RENEWAL_KAFKA_BOOTSTRAP_SERVERS"))
        .isEqualTo("kafka.bootstrap.servers");
    assertThat(Settings.keyToEnv("registry.url")).isEqualTo("RENEWAL_REGISTRY_URL");
  }

  @Test
  void anUnreadableFileIsAClearError() {
    assertThatThrownBy(() -> Settings.load(Map.of(), dir.resolve("missing.properties"), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cannot read configuration file");
  }
}
