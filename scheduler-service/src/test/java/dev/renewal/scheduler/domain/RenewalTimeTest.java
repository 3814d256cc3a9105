package dev.renewal.scheduler.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.renewal.scheduler.domain.RenewalTime.Before;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RenewalTimeTest {
  private static final Instant START = Instant.parse("2026-12-01T00:00:00Z");

  /** The due time, and how much of the lifetime is left then. */
  private static Duration leftAtDue(String name, Duration lifetime, Optional<Before> before) {
    Instant due = RenewalTime.due(name, START, START.plus(lifetime), before);
    return Duration.between(due, START.plus(lifetime));
  }

  /** Left at due, without the jitter: between the rule's share and 2 % of the lifetime more. */
  private static void assertLeft(Duration lifetime, Optional<Before> before, Duration rule) {
    for (String name : new String[] {"a.example", "b.example", "www.example.org", "x"}) {
      Duration left = leftAtDue(name, lifetime, before);
      assertThat(left)
          .as(name + " " + lifetime + " " + before)
          .isBetween(rule, rule.plusMillis(Math.round(lifetime.toMillis() * RenewalTime.JITTER)));
    }
  }

  @Test
  void byDefaultAThirdOfTheLifetimeIsLeftAndAHalfUnderTenDays() {
    assertLeft(Duration.ofDays(90), Optional.empty(), Duration.ofDays(30));
    assertLeft(Duration.ofDays(45), Optional.empty(), Duration.ofDays(15));
    assertLeft(Duration.ofDays(10), Optional.empty(), Duration.ofDays(10).dividedBy(3));
    assertLeft(Duration.ofDays(6), Optional.empty(), Duration.ofDays(3));
    assertLeft(Duration.ofSeconds(60), Optional.empty(), Duration.ofSeconds(30));
  }

  @Test
  void renewalBeforeAsADurationLeavesThatMuchOrAllOfALifetimeShorterThanIt() {
    assertLeft(Duration.ofDays(90), Optional.of(Before.parse("30d")), Duration.ofDays(30));
    assertLeft(Duration.ofDays(45), Optional.of(Before.parse("12h")), Duration.ofHours(12));
    assertLeft(Duration.ofDays(6), Optional.of(Before.parse("P2D")), Duration.ofDays(2));
    assertLeft(Duration.ofSeconds(60), Optional.of(Before.parse("45s")), Duration.ofSeconds(45));
    // Longer than the lifetime: due from the start.
    assertThat(
            RenewalTime.due(
                "a.example",
                START,
                START.plus(Duration.ofDays(6)),
                Optional.of(Before.parse("30d"))))
        .isEqualTo(START);
  }

  @Test
  void renewalBeforeAsAPercentageLeavesThatShareOfTheLifetime() {
    assertLeft(Duration.ofDays(90), Optional.of(Before.parse("50%")), Duration.ofDays(45));
    assertLeft(Duration.ofDays(6), Optional.of(Before.parse("25%")), Duration.ofHours(36));
    assertLeft(Duration.ofSeconds(60), Optional.of(Before.parse("10%")), Duration.ofSeconds(6));
  }

  @Test
  void theJitterIsTheSameForANameEveryTimeDiffersBetweenNamesAndStaysWithinItsBound() {
    Duration lifetime = Duration.ofDays(90);
    Instant end = START.plus(lifetime);
    assertThat(RenewalTime.due("a.example", START, end, Optional.empty()))
        .isEqualTo(RenewalTime.due("a.example", START, end, Optional.empty()));
    long distinct =
        IntStream.range(0, 200)
            .mapToObj(i -> RenewalTime.due("n" + i + ".example", START, end, Optional.empty()))
            .distinct()
            .count();
    assertThat(distinct).isGreaterThan(190);
    Instant base = end.minus(Duration.ofDays(30));
    Duration bound = Duration.ofMillis(Math.round(lifetime.toMillis() * RenewalTime.JITTER));
    IntStream.range(0, 1000)
        .mapToObj(i -> RenewalTime.due("n" + i + ".example", START, end, Optional.empty()))
        .forEach(due -> assertThat(due).isBetween(base.minus(bound), base));
    assertThat(RenewalTime.fraction("x")).isBetween(0.0, 1.0).isNotEqualTo(1.0);
  }

  @Test
  void neverAfterTheExpiryNorBeforeTheStart() {
    for (Duration lifetime :
        new Duration[] {
          Duration.ofDays(90), Duration.ofDays(6), Duration.ofSeconds(60), Duration.ofSeconds(1)
        }) {
      for (String rule : new String[] {"1s", "99%", "1%", "365d"}) {
        for (int i = 0; i < 50; i++) {
          Instant due =
              RenewalTime.due(
                  "n" + i, START, START.plus(lifetime), Optional.of(Before.parse(rule)));
          assertThat(due).isBetween(START, START.plus(lifetime));
        }
      }
    }
  }

  @Test
  void aCertificateWithNoLifetimeIsDueFromItsStart() {
    assertThat(RenewalTime.due("a", START, START, Optional.empty())).isEqualTo(START);
    assertThat(RenewalTime.due("a", START, START.minusSeconds(5), Optional.empty()))
        .isEqualTo(START);
  }

  @Test
  void aCertificateAlreadyPastItsDueTimeIsDueNow() {
    // Issued long ago: its due time is in the past, which the scheduler reads as "now".
    Instant longAgo = Instant.now().minus(Duration.ofDays(80));
    Instant due =
        RenewalTime.due("a", longAgo, longAgo.plus(Duration.ofDays(90)), Optional.empty());
    assertThat(due).isBefore(Instant.now());
  }

  @Test
  void badRulesAreRefusedWithTheReason() {
    assertThatThrownBy(() -> Before.parse("0%")).hasMessageContaining("more than 0");
    assertThatThrownBy(() -> Before.parse("100%")).hasMessageContaining("less than 100");
    assertThatThrownBy(() -> Before.parse("abc%")).hasMessageContaining("not a percentage");
    assertThatThrownBy(() -> Before.parse("soon")).hasMessageContaining("not a duration");
    assertThatThrownBy(() -> Before.parse("0d")).hasMessageContaining("more than zero");
    assertThatThrownBy(() -> Before.parse("-P1D")).hasMessageContaining("more than zero");
    assertThat(Before.parse(" 30D ").left()).isEqualTo(Duration.ofDays(30));
    assertThat(Before.parse("33%").share()).isEqualTo(0.33);
  }
}
