package dev.renewal.local.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ProcessMemoryTest {
  @Test
  void jitCpuIsSummedPerThreadAndAStoppedThreadDoesNotMakeItNegative() {
    Map<String, Long> before = Map.of("101", 5_000L, "102", 9_000L);
    // 102 stopped, 103 started, 101 went on
    Map<String, Long> after = Map.of("101", 7_000L, "103", 1_500L);

    assertThat(ProcessMemory.jitCpuNanosSince(before, after)).isEqualTo(2_000L + 1_500L);
    assertThat(ProcessMemory.jitCpuNanosSince(after, after)).isZero();
  }

  @Test
  void thisJvmsCompilerThreadsAreFound() {
    assertThat(ProcessMemory.jitCpuNanosByThread()).isNotEmpty();
  }
}
