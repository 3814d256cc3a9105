package dev.renewal.acme;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.config.Settings;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class Acme4jPacersTest {
  private static final CaProfiles PROFILES =
      CaProfiles.from(
          Settings.of(
              Map.of(
                  "ca.profiles", "pebble",
                  "ca.pebble.directory.url", "https://127.0.0.1:14000/dir",
                  "ca.pebble.max.in.flight", "3",
                  "ca.pebble.max.new.orders.in.flight", "1")));

  @Test
  void aServiceKeepsTheLimitItIsGivenWithinMaxInFlight() throws Exception {
    assertThat(inFlightOf(Acme4jPacers.create(PROFILES, "t"))).isEqualTo(3);
    assertThat(inFlightOf(Acme4jPacers.create(PROFILES, "t", CaProfile::maxNewOrdersInFlight)))
        .isEqualTo(1);
    // a larger limit than max.in.flight does not lift it
    assertThat(inFlightOf(Acme4jPacers.create(PROFILES, "t", p -> 100))).isEqualTo(3);
  }

  /** Submits five operations that wait for a latch; returns how many ran at once. */
  private static int inFlightOf(Acme4jPacers pacers) throws Exception {
    try (pacers) {
      Pacer pacer = pacers.byProfile().get("pebble");
      CountDownLatch release = new CountDownLatch(1);
      CompletableFuture<?>[] all = new CompletableFuture<?>[5];
      for (int i = 0; i < all.length; i++) {
        all[i] =
            pacer.submit(
                () -> {
                  try {
                    return release.await(10, TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                  }
                });
      }
      int running = pacer.inFlight();
      assertThat(pacer.waiting()).isEqualTo(all.length - running);
      release.countDown();
      CompletableFuture.allOf(all).get(10, TimeUnit.SECONDS);
      return running;
    }
  }
}
