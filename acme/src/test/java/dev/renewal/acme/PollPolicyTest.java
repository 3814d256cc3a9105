package dev.renewal.acme;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PollPolicyTest {
  private final PollPolicy policy = new PollPolicy(Duration.ofMillis(100), Duration.ofSeconds(5));
  private final Instant now = Instant.parse("2026-11-27T00:00:00Z");

  @Test
  void withoutRetryAfterTheIntervalDoublesUpToTheMaximum() {
    assertThat(policy.next(1, Optional.empty(), now)).isEqualTo(Duration.ofMillis(100));
    assertThat(policy.next(2, Optional.empty(), now)).isEqualTo(Duration.ofMillis(200));
    assertThat(policy.next(4, Optional.empty(), now)).isEqualTo(Duration.ofMillis(800));
    assertThat(policy.next(30, Optional.empty(), now)).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void retryAfterIsHonouredAndClamped() {
    assertThat(policy.next(1, Optional.of(now.plusSeconds(3)), now))
        .isEqualTo(Duration.ofSeconds(3));
    assertThat(policy.next(1, Optional.of(now.plusSeconds(3600)), now))
        .isEqualTo(Duration.ofSeconds(5));
    assertThat(policy.next(1, Optional.of(now.minusSeconds(1)), now))
        .isEqualTo(Duration.ofMillis(100));
  }
}
