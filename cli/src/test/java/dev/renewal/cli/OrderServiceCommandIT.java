package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.events.OrderPlaced;
import dev.renewal.events.RenewalRequested;
import dev.renewal.infra.EmbeddedStack;
import dev.renewal.testkit.pebble.PebbleServer;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.TopicReader;
import dev.renewal.topics.TopicSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code renewal order-service} as its own JVM, configured by file, environment and --set. */
class OrderServiceCommandIT {
  @TempDir Path work;

  @Test
  void orderServiceRunsAsItsOwnProcessAndPlacesAnOrder() throws Exception {
    try (EmbeddedStack stack =
            EmbeddedStack.start(
                work.resolve("stack"), 0, 0, new TopicSettings("", 3, (short) 1, 3_600_000));
        PebbleServer pebble =
            PebbleServer.start(PebbleServer.Options.defaults(work.resolve("pebble"), 5002));
        Publisher publisher = Publisher.create(stack.clientProps(), "it")) {
      Path config = work.resolve("order.properties");
      Files.writeString(
          config,
          String.join(
              "\n",
              "ca.profiles=pebble",
              "ca.pebble.directory.url=" + pebble.directoryUrl(),
              "ca.pebble.trust.pem=" + pebble.trustPem(),
              "ca.pebble.terms.agreed=true",
              "acme.key.dir=" + work.resolve("keys"),
              ""));
      ProcessBuilder builder =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Dorg.apache.avro.SERIALIZABLE_PACKAGES=dev.renewal.events",
                  "-cp",
                  System.getProperty("java.class.path"),
                  RenewalCli.class.getName(),
                  "order-service",
                  "--config",
                  config.toString(),
                  "--set",
                  "registry.url=" + stack.registryUrl())
              .redirectErrorStream(true)
              .redirectOutput(work.resolve("order-service.log").toFile());
      builder.environment().put("RENEWAL_KAFKA_BOOTSTRAP_SERVERS", stack.bootstrapServers());
      Process process = builder.start();
      try {
        String id = UUID.randomUUID().toString();
        publisher
            .send(
                stack.topics().renewalRequested,
                id,
                RenewalRequested.newBuilder()
                    .setEventId(UUID.randomUUID().toString())
                    .setRequestId(id)
                    .setOccurredAt(Instant.now())
                    .setCertificateName("process")
                    .setDnsNames(List.of("process.example"))
                    .setCaProfile("pebble")
                    .build())
            .get();
        List<ConsumerRecord<String, OrderPlaced>> placed =
            new TopicReader(stack.clientProps())
                .await(
                    stack.topics().orderPlaced, r -> r.key().equals(id), 1, Duration.ofSeconds(60));
        assertThat(placed).as(Files.readString(work.resolve("order-service.log"))).hasSize(1);
        assertThat(placed.get(0).value().getOrderUrl())
            .startsWith(pebble.directoryUrl().resolve("/").toString());
        process.destroy();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      } finally {
        process.destroyForcibly();
      }
    }
  }
}
