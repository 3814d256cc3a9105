package dev.renewal.scheduler.domain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.events.CurrentCertificate;
import dev.renewal.events.DueReason;
import dev.renewal.events.RenewalInfoObserved;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RenewalWindowsTest {
  private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

  static CurrentCertificate current(String ariCertId) {
    return CurrentCertificate.newBuilder()
        .setRequestId("r1")
        .setSerialNumber("0a")
        .setNotBefore(T0)
        .setNotAfter(T0.plus(Duration.ofDays(90)))
        .setIssuer("CN=test")
        .setAriCertId(ariCertId)
        .build();
  }

  static RenewalInfoObserved info(String ariCertId, Instant at, Instant start, Instant end) {
    return RenewalInfoObserved.newBuilder()
        .setEventId("ri-" + at)
        .setOccurredAt(at)
        .setCertificateName("shop")
        .setCaProfile("pebble")
        .setSerialNumber("0a")
        .setAriCertId(ariCertId)
        .setWindowStart(start)
        .setWindowEnd(end)
        .setExplanationUrl("https://ca.example/incident")
        .setNextFetchAt(at.plus(Duration.ofHours(6)))
        .build();
  }

  @Test
  void thePointIsUniformInTheWindowAndTheSameForTheSameWindow() {
    Instant start = T0.plus(Duration.ofDays(60));
    Instant end = start.plus(Duration.ofDays(2));
    int[] tenths = new int[10];
    for (int i = 0; i < 2000; i++) {
      Instant p = RenewalWindows.point("cert-" + i, "aki.serial" + i, start, end);
      assertThat(p).isBetween(start, end.minusMillis(1));
      assertThat(RenewalWindows.point("cert-" + i, "aki.serial" + i, start, end)).isEqualTo(p);
      tenths[
          (int)
              (Duration.between(start, p).toMillis()
                  * 10
                  / Duration.between(start, end).toMillis())]++;
    }
    // 2000 points in 10 bins: about 200 each (a binomial's 4-sigma bounds are about 150 and 250).
    for (int n : tenths) {
      assertThat(n).isBetween(140, 260);
    }
    Instant moved = RenewalWindows.point("cert-1", "aki.serial1", start.plusSeconds(1), end);
    assertThat(moved).isNotEqualTo(RenewalWindows.point("cert-1", "aki.serial1", start, end));
    assertThat(RenewalWindows.point("x", "y", end, start)).isEqualTo(end);
  }

  @Test
  void theNextFetchIsTheRetryAfterClampedToAMinuteAndADaySixHoursWithout() {
    assertThat(RenewalWindows.nextFetch(T0, Optional.empty()))
        .isEqualTo(T0.plus(Duration.ofHours(6)));
    assertThat(RenewalWindows.nextFetch(T0, Optional.of(T0.plusSeconds(5))))
        .isEqualTo(T0.plus(Duration.ofMinutes(1)));
    assertThat(RenewalWindows.nextFetch(T0, Optional.of(T0.minusSeconds(5))))
        .isEqualTo(T0.plus(Duration.ofMinutes(1)));
    assertThat(RenewalWindows.nextFetch(T0, Optional.of(T0.plus(Duration.ofHours(3)))))
        .isEqualTo(T0.plus(Duration.ofHours(3)));
    assertThat(RenewalWindows.nextFetch(T0, Optional.of(T0.plus(Duration.ofDays(9)))))
        .isEqualTo(T0.plus(Duration.ofDays(1)));
  }

  @Test
  void aWindowInTheFutureIsAPointOfItAWindowPastIsNowAndOthersCountForNothing() {
    Instant start = T0.plus(Duration.ofDays(60));
    Instant end = start.plus(Duration.ofDays(2));
    Instant seen = T0.plus(Duration.ofDays(30));
    RenewalWindows.Due d =
        RenewalWindows.due("shop", current("a.b"), info("a.b", seen, start, end)).orElseThrow();
    assertThat(d.reason()).isEqualTo(DueReason.ARI_WINDOW);
    assertThat(d.at()).isEqualTo(RenewalWindows.point("shop", "a.b", start, end));
    assertThat(d.explanationUrl()).isEqualTo("https://ca.example/incident");

    // A mass revocation: the window was moved into the past.
    Instant late = T0.plus(Duration.ofDays(10));
    RenewalWindows.Due now =
        RenewalWindows.due(
                "shop",
                current("a.b"),
                info("a.b", late, late.minusSeconds(7200), late.minusSeconds(60)))
            .orElseThrow();
    assertThat(now.reason()).isEqualTo(DueReason.ARI_WINDOW_PASSED);
    assertThat(now.at()).isEqualTo(late);

    // Another certificate's answer, a failed fetch, a window past the expiry: nothing.
    assertThat(RenewalWindows.due("shop", current("a.b"), info("c.d", seen, start, end))).isEmpty();
    RenewalInfoObserved failed =
        RenewalInfoObserved.newBuilder(info("a.b", seen, start, end))
            .setWindowStart(null)
            .setWindowEnd(null)
            .build();
    assertThat(RenewalWindows.due("shop", current("a.b"), failed)).isEmpty();
    assertThat(
            RenewalWindows.due(
                "shop", current("a.b"), info("a.b", seen, start, T0.plus(Duration.ofDays(91)))))
        .isEmpty();
    assertThat(RenewalWindows.due("shop", current(null), info("a.b", seen, start, end))).isEmpty();
  }
}
