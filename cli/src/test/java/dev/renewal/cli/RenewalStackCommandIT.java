package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code renewal stack} as a user runs it: its own JVM, stopped with SIGTERM (Ctrl-C). */
class RenewalStackCommandIT {
  @TempDir Path work;

  @Test
  void stackStartsPrintsItsAddressesServesAndStopsCleanlyOnSigterm() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process process =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                RenewalCli.class.getName(),
                "stack",
                "--work-dir",
                work.toString(),
                "--kafka-port",
                "0",
                "--registry-port",
                "0")
            .redirectError(work.resolve("stderr.log").toFile())
            .start();
    try {
      List<String> lines = new ArrayList<>();
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while ((line = out.readLine()) != null) {
        lines.add(line);
        if (line.startsWith("Press Ctrl-C")) {
          break;
        }
      }
      String text = String.join("\n", lines);
      assertThat(text)
          .as(Files.readString(work.resolve("stderr.log")))
          .contains("renewal stack is up");
      Matcher bootstrap = Pattern.compile("(?m)^  kafka bootstrap +(\\S+)$").matcher(text);
      Matcher registry = Pattern.compile("(?m)^  schema registry +(http\\S+)$").matcher(text);
      assertThat(bootstrap.find()).isTrue();
      assertThat(registry.find()).isTrue();
      assertThat(text).contains("acme.http01.responses").contains("compact");
      // The one command that points Kafka UI at it.
      assertThat(text).contains(KafkaUi.command(bootstrap.group(1), URI.create(registry.group(1))));

      HttpResponse<String> subjects =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(registry.group(1) + "/subjects")).build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(subjects.statusCode()).isEqualTo(200);
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap.group(1)))) {
        assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS))
            .contains("renewal.requested", "renewal.failed", "acme.http01.responses");
      }

      process.destroy();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("stops within 30 s").isTrue();
      assertThat(Files.exists(work.resolve("kafka/cluster.id"))).isTrue();
    } finally {
      process.destroyForcibly();
    }
  }
}
