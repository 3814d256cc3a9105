package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.events.CertificateIssued;
import dev.renewal.events.RenewalRequested;
import dev.renewal.infra.EmbeddedStack;
import dev.renewal.infra.kafka.EmbeddedKafka;
import dev.renewal.testkit.pebble.PebbleServer;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.TopicReader;
import dev.renewal.topics.TopicSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three services as three JVMs, as on many machines: each started with {@code renewal <service>
 * --config FILE}, pointed at the broker and the registry, sharing only the key folder.
 */
class SeparateProcessesIT {
  @TempDir Path work;

  @Test
  void threeServiceProcessesIssueACertificate() throws Exception {
    int httpPort = EmbeddedKafka.freePort();
    try (EmbeddedStack stack =
            EmbeddedStack.start(
                work.resolve("stack"), 0, 0, new TopicSettings("", 3, (short) 1, 3_600_000));
        PebbleServer pebble =
            PebbleServer.start(PebbleServer.Options.defaults(work.resolve("pebble"), httpPort));
        Publisher publisher = Publisher.create(stack.clientProps(), "it")) {
      Path config =
          config(
              stack,
              pebble,
              "challenge.http01.host=127.0.0.1",
              "challenge.http01.port=" + httpPort,
              "finalize.state.dir=" + work.resolve("streams"),
              "finalize.output.dir=" + work.resolve("certificates"));
      List<Process> processes = new ArrayList<>();
      try {
        for (String service : List.of("order-service", "challenge-service", "finalize-service")) {
          processes.add(service(service, config, service + ".log"));
        }
        String id = UUID.randomUUID().toString();
        publisher
            .send(
                stack.topics().renewalRequested,
                id,
                RenewalRequested.newBuilder()
                    .setEventId(UUID.randomUUID().toString())
                    .setRequestId(id)
                    .setOccurredAt(Instant.now())
                    .setCertificateName("processes")
                    .setDnsNames(List.of("processes.example", "www.processes.example"))
                    .setCaProfile("pebble")
                    .build())
            .get();
        List<ConsumerRecord<String, CertificateIssued>> issued =
            new TopicReader(stack.clientProps())
                .await(
                    stack.topics().certificateIssued,
                    r -> r.key().equals(id),
                    1,
                    Duration.ofSeconds(120));
        StringBuilder logs = new StringBuilder();
        for (String service : List.of("order-service", "challenge-service", "finalize-service")) {
          logs.append(Files.readString(work.resolve(service + ".log")));
        }
        assertThat(issued).as(logs.toString()).hasSize(1);
        assertThat(issued.get(0).value().getDnsNames())
            .containsExactlyInAnyOrder("processes.example", "www.processes.example");
        assertThat(work.resolve("certificates/processes/fullchain.pem")).exists();
        for (Process p : processes) {
          p.destroy();
        }
        for (Process p : processes) {
          assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("stops on SIGTERM").isTrue();
        }
      } finally {
        processes.forEach(Process::destroyForcibly);
      }
    }
  }

  /** The services' settings for {@code stack} and {@code pebble}, with {@code extra} lines. */
  private Path config(EmbeddedStack stack, PebbleServer pebble, String... extra)
      throws java.io.IOException {
    List<String> lines =
        new ArrayList<>(
            List.of(
                "kafka.bootstrap.servers=" + stack.bootstrapServers(),
                "registry.url=" + stack.registryUrl(),
                "ca.profiles=pebble",
                "ca.pebble.directory.url=" + pebble.directoryUrl(),
                "ca.pebble.trust.pem=" + pebble.trustPem(),
                "ca.pebble.terms.agreed=true",
                "acme.key.dir=" + work.resolve("keys")));
    lines.addAll(List.of(extra));
    Path config = work.resolve("renewal.properties");
    Files.writeString(config, String.join("\n", lines) + "\n");
    return config;
  }

  private Process service(String service, Path config, String log) throws Exception {
    return CliProcess.start(work.resolve(log), service, "--config", config.toString());
  }

  private static RenewalRequested request(String id, String name) {
    return RenewalRequested.newBuilder()
        .setEventId(UUID.randomUUID().toString())
        .setRequestId(id)
        .setOccurredAt(Instant.now())
        .setCertificateName(name)
        .setDnsNames(List.of(name + ".example"))
        .setCaProfile("pebble")
        .build();
  }

  /**
   * Killed with SIGKILL and started again with the same {@code instance.id}, order-service takes
   * its partitions back at once: a static member (KIP-345) replaces its dead self instead of
   * waiting for its session to time out. (A dynamic member waits out the old session, 45 s by
   * default: docs/design.md, "Restarts and static membership".)
   */
  @Test
  void aKilledServiceRestartedWithItsInstanceIdResumesWithoutWaitingForItsOldSession()
      throws Exception {
    int httpPort = EmbeddedKafka.freePort();
    try (EmbeddedStack stack =
            EmbeddedStack.start(
                work.resolve("stack"), 0, 0, new TopicSettings("", 3, (short) 1, 3_600_000));
        PebbleServer pebble =
            PebbleServer.start(PebbleServer.Options.defaults(work.resolve("pebble"), httpPort));
        Publisher publisher = Publisher.create(stack.clientProps(), "it")) {
      Path config = config(stack, pebble, "instance.id=it-host");
      Process first = service("order-service", config, "first.log");
      Process second = null;
      try {
        String a = UUID.randomUUID().toString();
        publisher.send(stack.topics().renewalRequested, a, request(a, "before")).get();
        TopicReader reader = new TopicReader(stack.clientProps());
        assertThat(
                reader.await(
                    stack.topics().orderPlaced, r -> r.key().equals(a), 1, Duration.ofSeconds(60)))
            .as(Files.readString(work.resolve("first.log")))
            .hasSize(1);
        first.destroyForcibly().waitFor(10, TimeUnit.SECONDS);

        long restarted = System.nanoTime();
        second = service("order-service", config, "second.log");
        String b = UUID.randomUUID().toString();
        publisher.send(stack.topics().renewalRequested, b, request(b, "after")).get();
        List<ConsumerRecord<String, dev.renewal.events.OrderPlaced>> placed =
            reader.await(
                stack.topics().orderPlaced, r -> r.key().equals(b), 1, Duration.ofSeconds(60));
        Duration resumed = Duration.ofNanos(System.nanoTime() - restarted);
        assertThat(placed).as(Files.readString(work.resolve("second.log"))).hasSize(1);
        System.out.println("order-service resumed " + resumed.toMillis() + " ms after its restart");
        // The JVM's start and the first CA calls take a few seconds; the old session 45.
        assertThat(resumed).isLessThan(Duration.ofSeconds(25));
      } finally {
        first.destroyForcibly();
        if (second != null) {
          second.destroyForcibly();
        }
      }
    }
  }
}
