package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code renewal bench} at a small size, as its own JVM: it runs both clients and the pipeline to
 * the end and prints every figure. No figure is asserted against a target here: speed goals are met
 * in the benchmark itself (docs/benchmarks.md), not in a timed test.
 */
class BenchCommandIT {
  @TempDir Path work;

  @Test
  void aSmallBenchmarkRunsEveryPhaseAndPrintsEveryFigure() throws Exception {
    String out =
        CliProcess.run(
            work,
            240,
            "bench",
            "--requests",
            "8",
            "--sequential",
            "2",
            "--warmup",
            "2",
            "--concurrency",
            "2",
            "--rounds",
            "2",
            "--work-dir",
            work.resolve("bench").toString());
    assertThat(out)
        .contains("one at a time (2 certificates)")
        .contains("8 at once (concurrency 2)")
        .contains("request -> order placed")
        .contains("order ready -> issued (finalize, download)")
        .contains("heap peak during the 8 at once")
        .contains("of which the JIT compiler (cores)")
        .containsPattern("CA requests per cert, in flight +[0-9.]+, [0-9.]+ +[0-9.]+, [0-9.]+")
        .containsPattern("broker work per certificate, 8 at once: [0-9.]+ requests")
        .containsPattern("records +.*renewal\\.requested 1\\.0")
        .doesNotContain("throughput >= 0.8x direct")
        .containsPattern("cost per certificate, 8 at once \\(median of 2 rounds\\)")
        .containsPattern("CPU, core-ms \\(JVM \\+ Pebble\\) +[0-9]+ +[0-9]+")
        .containsPattern("broker requests, records written +[0-9.]+, [0-9.]+")
        .containsPattern(
            "CA requests, in flight at the CA \\(mean\\) +[0-9.]+, [0-9.]+ +[0-9.]+, [0-9.]+")
        .contains("p50 one in flight <= 5x direct")
        .contains("targets (medians of 2 rounds)")
        .containsPattern(
            "(?m)^  1 +[0-9.]+ / [0-9.]+ certs/s +[0-9.]+x +[0-9]+ / [0-9]+ ms +[0-9.]+x +[0-9]+ / [0-9]+$")
        .containsPattern(
            "(?m)^  2 +[0-9.]+ / [0-9.]+ certs/s +[0-9.]+x +[0-9]+ / [0-9]+ ms +[0-9.]+x +[0-9]+ / [0-9]+$")
        .containsPattern("(?m)^  median +[0-9.]+x +[0-9.]+x$");
    // Every round's pipeline phases ran in topics of their own.
    assertThat(out).contains("(round 1 of 2)").contains("(round 2 of 2)");
    // Both clients issued all eight, and the throughputs are real numbers.
    Matcher issued =
        Pattern.compile("issued / failed\\s+(\\d+) / (\\d+)\\s+(\\d+) / (\\d+)").matcher(out);
    assertThat(issued.find()).as(out).isTrue();
    assertThat(issued.group(1)).isEqualTo("8");
    assertThat(issued.group(2)).isEqualTo("0");
    assertThat(issued.group(3)).isEqualTo("8");
    assertThat(issued.group(4)).isEqualTo("0");
    Matcher rate =
        Pattern.compile("throughput\\s+([0-9.]+) certs/s\\s+([0-9.]+) certs/s\\s+([0-9.]+)x")
            .matcher(out);
    assertThat(rate.find()).as(out).isTrue();
    assertThat(Double.parseDouble(rate.group(1))).isPositive();
    assertThat(Double.parseDouble(rate.group(2))).isPositive();
    // CPU per certificate, both clients: its parts add up to its total.
    Matcher perCert =
        Pattern.compile(
                "core-ms per cert: JVM, JIT, Pebble\\s+(\\d+), (\\d+), (\\d+) \\((\\d+)\\)"
                    + "\\s+(\\d+), (\\d+), (\\d+) \\((\\d+)\\)")
            .matcher(out);
    assertThat(perCert.find()).as(out).isTrue();
    for (int first : new int[] {1, 5}) {
      int sum = 0;
      for (int i = first; i < first + 3; i++) {
        sum += Integer.parseInt(perCert.group(i));
      }
      int total = Integer.parseInt(perCert.group(first + 3));
      assertThat(total).as(out).isPositive().isCloseTo(sum, within(2));
    }
  }

  @Test
  void whenTheCaStopsAnsweringThePipelinesPhasesRunAgainOnAFreshOneAndTheFiguresArePrinted()
      throws Exception {
    String out =
        CliProcess.run(
            work,
            240,
            "bench",
            "--skip-direct",
            "--rounds",
            "1",
            "--requests",
            "4",
            "--sequential",
            "1",
            "--warmup",
            "1",
            "--concurrency",
            "2",
            "--stall",
            "PT5S",
            "--stop-ca-once",
            "--work-dir",
            work.resolve("bench").toString());
    assertThat(out)
        .contains("stopping the CA (SIGSTOP, --stop-ca-once)")
        .containsPattern(
            "The CA stopped answering \\([0-9]+ failures with a network problem, [0-9]+ requests")
        .contains("the pipeline's phases again on a fresh Pebble (attempt 2 of 3)")
        .containsPattern("issued / failed\\s+4 / 0")
        .containsPattern("broker work per certificate, 4 at once: [0-9.]+ requests");
  }
}
