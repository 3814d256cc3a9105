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
  }
}
