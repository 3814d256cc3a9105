package dev.renewal.runtime;

import dev.renewal.config.ConfigException;
import dev.renewal.config.Settings;
import dev.renewal.registry.RestSchemaRegistryClient;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.serde.AvroTrust;
import dev.renewal.topics.TopicSettings;
import dev.renewal.topics.Topics;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * The Kafka side of every process of the pipeline (the services and the operator's commands): the
 * Kafka client properties, the registry and serdes, the topic catalogue. Reads and validates every
 * shared key, reporting all problems at once.
 *
 * <p>Keys: {@code kafka.*} (at least {@code kafka.bootstrap.servers}), {@code registry.url}, {@code
 * registry.basic.auth.user.info}, {@code topics.*}.
 */
public record PipelineContext(
    Settings settings, Map<String, Object> kafka, AvroSerdes serdes, Topics topics) {

  /** Defaults of the shared keys. */
  public static final Map<String, String> DEFAULTS =
      Map.of("registry.url", "http://127.0.0.1:8081");

  public static PipelineContext load(Settings raw) {
    List<String> problems = new ArrayList<>();
    PipelineContext context = load(raw, problems);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return context;
  }

  /**
   * The same, adding what is wrong to {@code problems} instead of throwing, so that a caller with
   * keys of its own reports every problem at once; null when anything is wrong.
   */
  public static PipelineContext load(Settings raw, List<String> problems) {
    AvroTrust.trustEventPackages();
    Settings settings = raw.withDefaults(DEFAULTS);
    int before = problems.size();
    Settings.Reader r = settings.reader();
    URI registry = r.uri("registry.url");
    Map<String, Object> kafka = settings.withPrefix("kafka.");
    if (!kafka.containsKey(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)) {
      problems.add(
          "kafka.bootstrap.servers is required (set it in the file or as"
              + " RENEWAL_KAFKA_BOOTSTRAP_SERVERS)");
    }
    problems.addAll(r.problems());
    TopicSettings topicSettings = collect(problems, () -> TopicSettings.from(settings));
    if (problems.size() > before) {
      return null;
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
    return new PipelineContext(settings, kafka, serdes, Topics.create(topicSettings, serdes));
  }

  /** Runs {@code read}, adding its problems to {@code problems} (null then). */
  public static <T> T collect(List<String> problems, Supplier<T> read) {
    try {
      return read.get();
    } catch (ConfigException e) {
      problems.addAll(e.problems());
      return null;
    }
  }
}
