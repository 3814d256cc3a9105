package dev.renewal.cli;

import dev.renewal.config.ConfigException;
import dev.renewal.config.Settings;
import dev.renewal.registry.RestSchemaRegistryClient;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.topics.TopicSettings;
import dev.renewal.topics.Topics;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * What the operator's commands need: Kafka client properties, serdes through the registry, the
 * topic catalogue. Defaults fit {@code renewal stack} on this machine (127.0.0.1:9092, :8081).
 */
record OpsContext(Map<String, Object> kafka, AvroSerdes serdes, Topics topics) {
  static final Map<String, String> DEFAULTS =
      Map.of("kafka.bootstrap.servers", "127.0.0.1:9092", "registry.url", "http://127.0.0.1:8081");

  static OpsContext load(Settings raw) {
    Settings s = raw.withDefaults(DEFAULTS);
    Settings.Reader r = s.reader();
    var registry = r.uri("registry.url");
    r.done();
    Map<String, Object> kafka = s.withPrefix("kafka.");
    if (!kafka.containsKey(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)) {
      throw new ConfigException(List.of("kafka.bootstrap.servers is required"));
    }
    AvroSerdes serdes = new AvroSerdes(new RestSchemaRegistryClient(registry), true);
    return new OpsContext(kafka, serdes, Topics.create(TopicSettings.from(s), serdes));
  }
}
