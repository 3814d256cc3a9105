package dev.renewal.acme;

import dev.renewal.config.ConfigException;
import dev.renewal.config.Settings;
import dev.renewal.registry.RestSchemaRegistryClient;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.topics.TopicSettings;
import dev.renewal.topics.Topics;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * What every service of the pipeline is built from: the Kafka client properties, the registry and
 * serdes, the topic catalogue, the CA profiles and the account store. Reads and validates every
 * shared key, reporting all problems at once.
 *
 * <p>Keys: {@code kafka.*} (at least {@code kafka.bootstrap.servers}), {@code registry.url}, {@code
 * topics.*}, {@code ca.profiles} and {@code ca.<name>.*}, {@code acme.key.dir}.
 */
public record PipelineContext(
    Settings settings,
    Map<String, Object> kafka,
    AvroSerdes serdes,
    Topics topics,
    CaProfiles profiles,
    AccountStore accounts,
    AcmeSessions sessions) {

  /** Defaults of the shared keys. */
  public static final Map<String, String> DEFAULTS =
      Map.of("acme.key.dir", "keys", "registry.url", "http://127.0.0.1:8081");

  public static PipelineContext load(Settings raw) {
    dev.renewal.serde.AvroTrust.trustEventPackages();
    Settings settings = raw.withDefaults(DEFAULTS);
    List<String> problems = new ArrayList<>();
    Settings.Reader r = settings.reader();
    URI registry = r.uri("registry.url");
    Path keyDir = r.path("acme.key.dir");
    Map<String, Object> kafka = settings.withPrefix("kafka.");
    if (!kafka.containsKey(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)) {
      problems.add(
          "kafka.bootstrap.servers is required (set it in the file or as"
              + " RENEWAL_KAFKA_BOOTSTRAP_SERVERS)");
    }
    problems.addAll(r.problems());
    TopicSettings topicSettings = collect(problems, () -> TopicSettings.from(settings));
    CaProfiles profiles = collect(problems, () -> CaProfiles.from(settings));
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    AvroSerdes serdes =
        new AvroSerdes(
            new RestSchemaRegistryClient(
                registry,
                Duration.ofSeconds(10),
                5,
                Duration.ofMillis(200),
                settings.raw("registry.basic.auth.user.info").orElse(null)),
            true);
    return new PipelineContext(
        settings,
        kafka,
        serdes,
        Topics.create(topicSettings, serdes),
        profiles,
        new AccountStore(keyDir),
        new AcmeSessions());
  }

  private static <T> T collect(List<String> problems, Supplier<T> read) {
    try {
      return read.get();
    } catch (ConfigException e) {
      problems.addAll(e.problems());
      return null;
    }
  }
}
