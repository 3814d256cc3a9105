package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code renewal demo} as a user runs it: its own JVM, the whole pipeline, one certificate and,
 * with {@code --lifetime}, its renewal by scheduler-service.
 */
class DemoCommandIT {
  @TempDir Path work;

  private String run(String... args) throws Exception {
    return CliProcess.run(work, 150, args);
  }

  @Test
  void theKeyfactorDemoIssuesACertificateShowsTheContradictionReconciledAndItsRenewal()
      throws Exception {
    String out =
        run(
            "demo",
            "--quirk",
            "keyfactor",
            "--names",
            "2",
            "--lifetime",
            "20s",
            "--work-dir",
            work.resolve("demo").toString());
    assertThat(out)
        .contains("order placed")
        .contains("challenge triggered")
        .contains("<- the CA says invalid; the authorization will decide")
        .contains("CONTRADICTION")
        .contains("certificate issued")
        .contains("Certificate issued in")
        .contains("2 contradiction(s)")
        // --lifetime: scheduler-service renews it by itself, with a new key.
        .containsPattern("Renewal due \\(LIFETIME\\) at .*: serial [0-9a-f]+ expires")
        .contains("Renewed by itself, no operator action:")
        .contains("a new one");
    try (var files = Files.walk(work.resolve("demo"))) {
      assertThat(files.filter(f -> f.getFileName().toString().equals("fullchain.pem"))).hasSize(1);
    }
    // The console holds the narration and the result, never a log line: they are in the run
    // folder's log file, which the demo names.
    assertThat(out)
        .startsWith("renewal demo: one certificate requested as an event")
        .doesNotContainPattern(LOG_LINE);
    assertThat(Files.readString(work.resolve("stderr.log"))).doesNotContainPattern(LOG_LINE);
    Path log;
    try (var files = Files.walk(work.resolve("demo"))) {
      log = files.filter(f -> f.getFileName().toString().equals("renewal.log")).findFirst().get();
    }
    assertThat(out).contains("The services' log lines: " + log.toAbsolutePath());
    assertThat(Files.readString(log))
        .contains("certificate issued: requestId=")
        .contains("renewal due: name=demo reason=LIFETIME");
  }

  /** A log line: time, level, thread. */
  static final String LOG_LINE =
      "(?m)^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} +(TRACE|DEBUG|INFO|WARN|ERROR) ";

  /**
   * Without a broker a command says so in one line, exit 4; the Kafka client's complaints go to its
   * log file, and with --verbose to standard error too.
   */
  @Test
  void aCommandWithoutItsBrokerSaysSoInOneLineAndLogsToItsFileAndWithVerboseToStderr()
      throws Exception {
    Process p =
        CliProcess.builder(
                "certificates", "--verbose", "--set", "kafka.bootstrap.servers=127.0.0.1:1")
            .redirectError(work.resolve("err.txt").toFile())
            .redirectOutput(work.resolve("out.txt").toFile())
            .directory(work.toFile())
            .start();
    p.getOutputStream().close();
    assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(4);
    assertThat(Files.readString(work.resolve("out.txt"))).isEmpty();
    String err = Files.readString(work.resolve("err.txt"));
    assertThat(err.lines().filter(l -> l.startsWith("renewal ")))
        .as("besides the log lines, one line")
        .containsExactly(
            "renewal certificates: no Kafka broker answers at 127.0.0.1:1 within 5 s: start one"
                + " with `renewal stack`, or set kafka.bootstrap.servers");
    assertThat(err).containsPattern(LOG_LINE.replace("+(TRACE|DEBUG|INFO|WARN|ERROR)", "+WARN"));
    assertThat(Files.readString(work.resolve(".renewal/logs/certificates.log")))
        .containsPattern("(?m)^\\d{4}-\\d\\d-\\d\\dT[0-9:.]+ WARN ");
  }
}
