package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The progress line of bulk commands, on a terminal and elsewhere. */
class ProgressLineTest {
  private final AtomicLong clock = new AtomicLong();
  private final StringWriter text = new StringWriter();

  private ProgressLine line(int total, boolean terminal) {
    return new ProgressLine("published", total, new PrintWriter(text), terminal, clock::get);
  }

  @Test
  void notOnATerminalItIsAPlainLineEveryTenthThenTheTotals() {
    ProgressLine p = line(100, false);
    for (int i = 0; i < 100; i++) {
      clock.addAndGet(10_000_000L); // 10 ms each: 100 a second
      p.advance();
    }
    p.done();
    String[] lines = text.toString().split("\n");
    assertThat(lines).hasSize(10);
    assertThat(lines[0]).isEqualTo("published 10 / 100 (10%), 100/s, about 1s left");
    assertThat(lines[4]).startsWith("published 50 / 100 (50%), 100/s");
    assertThat(lines[9]).isEqualTo("published 100 of 100 in 1.0 s (100/s)");
    assertThat(text.toString()).doesNotContain("\r");
  }

  @Test
  void onATerminalOneLineIsRewrittenAtMostTenTimesASecond() {
    ProgressLine p = line(10_000, true);
    for (int i = 0; i < 5_000; i++) {
      clock.addAndGet(200_000L); // 5,000 a second
      p.advance();
    }
    // a second of work: the first item, then at most every 100 ms
    assertThat(text.toString().split("\r", -1).length - 1).isBetween(10, 12);
    assertThat(text.toString()).doesNotContain("\n");
    assertThat(p.line(clock.get()))
        .isEqualTo("published 5,000 / 10,000 (50%), 5,000/s, about 1s left");
  }
}
