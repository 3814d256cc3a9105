package dev.renewal.topics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class OwnershipTest {
  private final Ownership owners = new Ownership(key -> key.startsWith("a") ? 0 : 1);

  @Test
  void aNewerFlowOrARevocationEndsAFlowsOwnershipAndAReleaseEndsOnlyItsOwn() {
    long first = owners.own("a1");
    long second = owners.own("a1");
    assertThat(owners.owns("a1", first)).isFalse();
    assertThat(owners.owns("a1", second)).isTrue();
    owners.release("a1", first);
    assertThat(owners.owns("a1", second)).as("an older flow's release").isTrue();

    long b = owners.own("b1");
    assertThat(owners.size()).isEqualTo(2);
    assertThat(owners.revoke(List.of(0))).containsExactly("a1");
    assertThat(owners.owns("a1", second)).isFalse();
    assertThat(owners.owns("b1", b)).isTrue();
    owners.release("b1", b);
    assertThat(owners.size()).isZero();
  }
}
