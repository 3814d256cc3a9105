package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code renewal demo} as a user runs it: its own JVM, the whole pipeline, one certificate. */
class DemoCommandIT {
  @TempDir Path work;

  private String run(String... args) throws Exception {
    return CliProcess.run(work, 150, args);
  }

  @Test
  void theKeyfactorDemoIssuesACertificateAndShowsTheContradictionReconciled() throws Exception {
    String out =
        run(
            "demo",
            "--quirk",
            "keyfactor",
            "--names",
            "2",
            "--work-dir",
            work.resolve("demo").toString());
    assertThat(out)
        .contains("order placed")
        .contains("challenge triggered")
        .contains("<- the CA says invalid; the authorization will decide")
        .contains("CONTRADICTION")
        .contains("certificate issued")
        .contains("Certificate issued in")
        .contains("2 contradiction(s)");
    try (var files = Files.walk(work.resolve("demo"))) {
      assertThat(files.filter(f -> f.getFileName().toString().equals("fullchain.pem"))).hasSize(1);
    }
  }
}
