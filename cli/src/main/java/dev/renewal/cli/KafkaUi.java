package dev.renewal.cli;

import java.net.URI;

/**
 * The one command that points Kafka UI at a running broker and registry, for a user with Docker:
 * Kafka UI in a container on the host's network (Linux; Docker Desktop 4.34 and later with host
 * networking turned on), so that it reaches the broker at the address the broker advertises.
 */
final class KafkaUi {
  /** The Kafka UI image the compose file pins too (checked by ComposeFileTest). */
  static final String IMAGE = "ghcr.io/kafbat/kafka-ui:v1.5.0";

  private KafkaUi() {}

  static String command(String bootstrapServers, URI registry) {
    return "docker run --rm --network host -e KAFKA_CLUSTERS_0_NAME=renewal"
        + " -e KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS="
        + bootstrapServers
        + " -e KAFKA_CLUSTERS_0_SCHEMAREGISTRY="
        + registry
        + " "
        + IMAGE;
  }

  /** Two lines: the command, and where Kafka UI then answers. */
  static String lines(String bootstrapServers, URI registry) {
    return "Kafka UI (Docker), then open http://127.0.0.1:8080 :\n  "
        + command(bootstrapServers, registry);
  }
}
