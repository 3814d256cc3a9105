package dev.renewal.infra.registry;

import java.io.IOException;
import java.net.URI;
import java.util.Map;

/**
 * The registry server with its store on a Kafka topic: what the one-machine stack runs. Closing it
 * leaves the topic (and so every schema id) in place for the next start.
 */
public final class EmbeddedRegistry implements AutoCloseable {
  /** The topic Confluent's registry uses, so that tools looking for it find it. */
  public static final String DEFAULT_TOPIC = "_schemas";

  private final KafkaSchemaLog log;
  private final SchemaRegistryServer server;

  private EmbeddedRegistry(KafkaSchemaLog log, SchemaRegistryServer server) {
    this.log = log;
    this.server = server;
  }

  /**
   * Replays {@code topic} and starts serving on 127.0.0.1:{@code port} (0 for a free port).
   *
   * @throws IOException if the port cannot be bound
   */
  public static EmbeddedRegistry start(
      Map<String, Object> kafkaClientProps, String topic, short replicationFactor, int port)
      throws IOException {
    KafkaSchemaLog log = new KafkaSchemaLog(kafkaClientProps, topic, replicationFactor);
    try {
      SchemaStore store = new SchemaStore(log, CompatibilityLevel.BACKWARD);
      return new EmbeddedRegistry(log, SchemaRegistryServer.start(store, "127.0.0.1", port));
    } catch (IOException | RuntimeException e) {
      log.close();
      throw e;
    }
  }

  public URI url() {
    return server.url();
  }

  @Override
  public void close() {
    server.close();
    log.close();
  }
}
