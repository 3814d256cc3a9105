package dev.renewal.finalize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.renewal.config.ConfigException;
import dev.renewal.config.Settings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The status view's own Streams application: what its consumers and commits are given. */
class FinalizeServiceAppTest {
  private static Properties status(Duration commit) {
    return FinalizeServiceApp.statusProps(
        Map.of("bootstrap.servers", "127.0.0.1:9092", "linger.ms", 5),
        (short) 1,
        "renewal-finalize-service-status",
        Path.of("state"),
        commit);
  }

  @Test
  void theViewIsAtLeastOnceButItsConsumerReadsOnlyCommittedRecords() {
    StreamsConfig config = new StreamsConfig(status(Duration.ofSeconds(1)));
    assertThat(config.getString(StreamsConfig.PROCESSING_GUARANTEE_CONFIG))
        .isEqualTo(StreamsConfig.AT_LEAST_ONCE);
    assertThat(config.getString(StreamsConfig.APPLICATION_ID_CONFIG))
        .isEqualTo("renewal-finalize-service-status");
    assertThat(config.getLong(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG)).isEqualTo(1000L);
    // What the Streams runtime hands to its main consumer, after its own at-least-once defaults
    // (which would read uncommitted records of the reconciliation's aborted transactions).
    Map<String, Object> consumer = config.getMainConsumerConfigs("g", "c", 0);
    assertThat(consumer.get(ConsumerConfig.ISOLATION_LEVEL_CONFIG)).isEqualTo("read_committed");
    assertThat(consumer.get(ConsumerConfig.FETCH_MIN_BYTES_CONFIG)).isEqualTo(64 * 1024);
    assertThat(consumer.get(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG)).isEqualTo(500);
  }

  /** Settings of a service that cannot reach a broker, with {@code more} (key, value, ...). */
  private static Settings settings(Path dir, String... more) {
    Map<String, String> s = new java.util.HashMap<>();
    s.put("kafka.bootstrap.servers", "127.0.0.1:1");
    s.put("ca.profiles", "pebble");
    s.put("ca.pebble.directory.url", "https://127.0.0.1:14000/dir");
    s.put("acme.key.dir", dir.resolve("keys").toString());
    s.put("finalize.state.dir", dir.resolve("state").toString());
    for (int i = 0; i < more.length; i += 2) {
      s.put(more[i], more[i + 1]);
    }
    return Settings.of(s);
  }

  @Test
  void aRetentionShorterThanTwiceTheGraceIsRefusedBeforeAnythingStarts(@TempDir Path dir) {
    Settings settings = settings(dir, "finalize.grace", "10m", "finalize.retention", "15m");
    assertThatThrownBy(() -> FinalizeServiceApp.start(settings))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("finalize.retention = '15m'")
        .hasMessageContaining("at least twice finalize.grace");
  }

  @Test
  void aConsumerGroupSharedByTwoPartsIsRefusedBeforeAnythingStarts(@TempDir Path dir) {
    Settings settings =
        settings(dir, "finalize.application.id", "finalize", "finalize.group.id", "finalize");
    assertThatThrownBy(() -> FinalizeServiceApp.start(settings))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("finalize.group.id = 'finalize' (from ")
        .hasMessageContaining("is the consumer group of another part of finalize-service");
  }

  @Test
  void aFetchWaitsAtMostHalfACommitInterval() {
    Map<String, Object> consumer =
        new StreamsConfig(status(Duration.ofMillis(200))).getMainConsumerConfigs("g", "c", 0);
    assertThat(consumer.get(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG)).isEqualTo(100);
  }
}
