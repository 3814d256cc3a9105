package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class RenewalCliTest {
  @Test
  void everyCommandTheReadmeNamesIsThere() {
    assertThat(RenewalCli.commandLine().getSubcommands().keySet())
        .contains(
            "demo",
            "stack",
            "order-service",
            "challenge-service",
            "finalize-service",
            "publish",
            "status",
            "replay",
            "dlq");
  }

  @Test
  void aServiceWithoutConfigurationReportsEveryProblemAndExits2() {
    CommandLine cli = RenewalCli.commandLine();
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err));
    int rc = cli.execute("finalize-service", "--set", "registry.url=not a url");
    assertThat(rc).isEqualTo(2);
    assertThat(err.toString())
        .contains("kafka.bootstrap.servers is required")
        .contains("ca.profiles")
        .contains("registry.url");
  }
}
