package dev.renewal.cli;

import dev.renewal.config.Settings;
import dev.renewal.runtime.PipelineContext;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.topics.Topics;
import java.util.Map;

/**
 * What the operator's commands need: Kafka client properties, serdes through the registry, the
 * topic catalogue. Defaults fit {@code renewal stack} on this machine (127.0.0.1:9092, :8081).
 */
record OpsContext(Map<String, Object> kafka, AvroSerdes serdes, Topics topics) {
  static final Map<String, String> DEFAULTS =
      Map.of("kafka.bootstrap.servers", "127.0.0.1:9092", "registry.url", "http://127.0.0.1:8081");

  static OpsContext load(Settings raw) {
    PipelineContext pipeline = PipelineContext.load(raw.withDefaults(DEFAULTS));
    return new OpsContext(pipeline.kafka(), pipeline.serdes(), pipeline.topics());
  }
}
