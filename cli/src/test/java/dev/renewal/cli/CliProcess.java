package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@code renewal} as a user does, in a JVM of its own; asserts it ends well in time. */
final class CliProcess {
  private CliProcess() {}

  /** {@code renewal args...} as a JVM of its own, its command line. */
  static ProcessBuilder builder(String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Dorg.apache.avro.SERIALIZABLE_PACKAGES=dev.renewal.events");
    command.add("-Djdk.httpclient.allowRestrictedHeaders=host");
    // -Dcli.jvm.options="-Dlogback.configurationFile=..." to look inside the processes.
    String extra = System.getProperty("cli.jvm.options", "");
    if (!extra.isBlank()) {
      command.addAll(List.of(extra.trim().split("\\s+")));
    }
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(RenewalCli.class.getName());
    command.addAll(List.of(args));
    return new ProcessBuilder(command);
  }

  /** Starts {@code renewal args...}, its output and errors appended to {@code log}. */
  static Process start(Path log, String... args) throws java.io.IOException {
    return builder(args)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
  }

  /** The command's standard output; its logs go to {@code work/stderr.log}. */
  static String run(Path work, int timeoutSeconds, String... args) throws Exception {
    Process p =
        builder(args)
            .redirectError(work.resolve("stderr.log").toFile())
            .redirectOutput(work.resolve("stdout.log").toFile())
            .start();
    assertThat(p.waitFor(timeoutSeconds, TimeUnit.SECONDS))
        .as("renewal %s finishes within %d s", args[0], timeoutSeconds)
        .isTrue();
    String out = Files.readString(work.resolve("stdout.log"), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out + Files.readString(work.resolve("stderr.log"))).isZero();
    return out;
  }
}
