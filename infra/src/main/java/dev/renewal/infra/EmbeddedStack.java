package dev.renewal.infra;

import dev.renewal.infra.kafka.EmbeddedKafka;
import dev.renewal.infra.kafka.TopicProvisioner;
import dev.renewal.infra.registry.EmbeddedRegistry;
import dev.renewal.registry.RestSchemaRegistryClient;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.topics.TopicSettings;
import dev.renewal.topics.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;

/**
 * The one-machine stack: a real Kafka broker (KRaft), the schema registry on it, and every topic of
 * the pipeline. What {@code renewal stack} runs, and what integration tests start.
 */
public final class EmbeddedStack implements AutoCloseable {
  private final EmbeddedKafka kafka;
  private final EmbeddedRegistry registry;
  private final Topics topics;
  private final TopicSettings topicSettings;
  private final TopicProvisioner.Result provisioned;

  private EmbeddedStack(
      EmbeddedKafka kafka,
      EmbeddedRegistry registry,
      Topics topics,
      TopicSettings topicSettings,
      TopicProvisioner.Result provisioned) {
    this.topicSettings = topicSettings;
    this.kafka = kafka;
    this.registry = registry;
    this.topics = topics;
    this.provisioned = provisioned;
  }

  /**
   * @param workDir where the broker keeps its data (kept across restarts)
   * @param kafkaPort client port on 127.0.0.1, 0 for a free one
   * @param registryPort registry port on 127.0.0.1, 0 for a free one
   */
  public static EmbeddedStack start(
      Path workDir, int kafkaPort, int registryPort, TopicSettings topicSettings) {
    EmbeddedKafka kafka = EmbeddedKafka.start(workDir.resolve("kafka"), kafkaPort);
    EmbeddedRegistry registry = null;
    try {
      Map<String, Object> clientProps = clientProps(kafka.bootstrapServers());
      registry =
          EmbeddedRegistry.start(
              clientProps,
              EmbeddedRegistry.DEFAULT_TOPIC,
              topicSettings.replicationFactor(),
              // Not an ephemeral port of the system's choice: one no other server of this process
              // was promised (EmbeddedKafka.freePorts).
              registryPort == 0 ? EmbeddedKafka.freePort() : registryPort);
      Topics topics =
          Topics.create(
              topicSettings, new AvroSerdes(new RestSchemaRegistryClient(registry.url()), true));
      TopicProvisioner.Result result;
      try (Admin admin = Admin.create(clientProps)) {
        result = TopicProvisioner.ensure(admin, topics.all(), topics.replicationFactor());
      }
      return new EmbeddedStack(kafka, registry, topics, topicSettings, result);
    } catch (IOException e) {
      kafka.close();
      throw new UncheckedIOException("cannot start the schema registry: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      if (registry != null) {
        registry.close();
      }
      kafka.close();
      throw e;
    }
  }

  static Map<String, Object> clientProps(String bootstrap) {
    return Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
  }

  public String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  public URI registryUrl() {
    return registry.url();
  }

  public Topics topics() {
    return topics;
  }

  /**
   * A second catalogue on this stack, every name prefixed with {@code prefix} (same partitions,
   * replication and retention), its topics created: a separate namespace on the same broker.
   */
  public Topics topics(String prefix) {
    Topics prefixed =
        Topics.create(
            new TopicSettings(
                prefix,
                topicSettings.partitions(),
                topicSettings.replicationFactor(),
                topicSettings.retentionMs()),
            new AvroSerdes(new RestSchemaRegistryClient(registry.url()), true));
    try (Admin admin = Admin.create(clientProps())) {
      TopicProvisioner.ensure(admin, prefixed.all(), prefixed.replicationFactor());
    }
    return prefixed;
  }

  public TopicProvisioner.Result provisioned() {
    return provisioned;
  }

  /** Properties for any Kafka client of this stack. */
  public Map<String, Object> clientProps() {
    return clientProps(bootstrapServers());
  }

  @Override
  public void close() {
    registry.close();
    kafka.close();
  }
}
