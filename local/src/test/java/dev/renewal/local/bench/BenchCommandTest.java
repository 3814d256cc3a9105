package dev.renewal.local.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class BenchCommandTest {
  @Test
  void theMedianOfAnOddCountIsTheMiddleValueWhateverTheOrder() {
    assertThat(BenchCommand.median(List.of(0.9, 0.6, 0.7))).isEqualTo(0.7);
    assertThat(BenchCommand.median(List.of(0.62))).isEqualTo(0.62);
  }

  @Test
  void theMedianOfAnEvenCountIsTheMeanOfTheTwoMiddleValues() {
    assertThat(BenchCommand.median(List.of(0.55, 0.49))).isCloseTo(0.52, within(1e-12));
    assertThat(BenchCommand.median(List.of(4.0, 1.0, 3.0, 2.0))).isEqualTo(2.5);
  }

  @Test
  void coreMillisecondsPerCertificateAreTheBusyCoresOverTheThroughput() {
    assertThat(BenchCommand.coreMsPerCertificate(1.5, 20)).isCloseTo(75, within(1e-9));
    // 0.8x of a direct client at 25 certs/s, the same 1.95 cores busy: 97.5 core-ms at most.
    assertThat(BenchCommand.coreMsPerCertificate(1.95, 0.8 * 25)).isCloseTo(97.5, within(1e-9));
    assertThat(BenchCommand.coreMsPerCertificate(1.0, 0)).isNaN();
  }

  @Test
  void noValuesHaveNoMedian() {
    assertThat(BenchCommand.median(List.of())).isNaN();
  }
}
