package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code renewal demo} as a user runs it: its own JVM, the whole pipeline, one certificate. */
class DemoCommandIT {
  @TempDir Path work;

  private String run(String... args) throws Exception {
    String[] command = new String[args.length + 6];
    command[0] = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    command[1] = "-Dorg.apache.avro.SERIALIZABLE_PACKAGES=dev.renewal.events";
    command[2] = "-Djdk.httpclient.allowRestrictedHeaders=host";
    command[3] = "-cp";
    command[4] = System.getProperty("java.class.path");
    command[5] = RenewalCli.class.getName();
    System.arraycopy(args, 0, command, 6, args.length);
    Process p =
        new ProcessBuilder(command)
            .redirectError(work.resolve("stderr.log").toFile())
            .redirectOutput(work.resolve("stdout.log").toFile())
            .start();
    assertThat(p.waitFor(150, TimeUnit.SECONDS)).as("the demo finishes").isTrue();
    String out = Files.readString(work.resolve("stdout.log"), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out + Files.readString(work.resolve("stderr.log"))).isZero();
    return out;
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
