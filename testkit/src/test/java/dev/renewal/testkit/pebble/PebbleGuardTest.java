package dev.renewal.testkit.pebble;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.testkit.pebble.RoomLock.Room;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PebbleGuardTest {
  @Test
  void authorizationPostsShareOneRoomAndEveryStoreReaderOrWriterTheOther() {
    assertThat(PebbleGuard.room("POST", "/authZ/abc")).contains(Room.AUTHORIZATIONS);
    for (String path :
        new String[] {
          "/order-plz",
          "/my-order/o1",
          "/finalize-order/o1",
          "/list-orderz/1",
          "/sign-me-up",
          "/my-account/1",
          "/rollover-account-key",
          "/revoke-cert"
        }) {
      assertThat(PebbleGuard.room("POST", path)).as(path).contains(Room.STORE);
    }
    for (String path : new String[] {"/chalZ/c1", "/certZ/s1", "/nonce-plz", "/dir"}) {
      assertThat(PebbleGuard.room("POST", path)).as(path).isEmpty();
    }
    assertThat(PebbleGuard.room("GET", "/dir")).isEmpty();
    assertThat(PebbleGuard.room("HEAD", "/nonce-plz")).isEmpty();
  }

  @Test
  void requestsNamingAnOrderNameIt() {
    assertThat(PebbleGuard.order("POST", "/my-order/o1")).contains("o1");
    assertThat(PebbleGuard.order("POST", "/finalize-order/o1")).contains("o1");
    assertThat(PebbleGuard.order("POST", "/order-plz")).isEqualTo(Optional.empty());
    assertThat(PebbleGuard.order("POST", "/authZ/a1")).isEmpty();
  }

  @Test
  void anAuthorizationReadWaitsWhileAnOrderIsReadAndTwoReadsOfOneOrderGoOneAtATime()
      throws Exception {
    PebbleGuard guard = new PebbleGuard(Duration.ofSeconds(5));
    FaultyAcmeProxy.Gate.Pass order = guard.enter("POST", "/my-order/o1");
    ExecutorService pool = Executors.newCachedThreadPool();
    try {
      Future<FaultyAcmeProxy.Gate.Pass> sameOrder =
          pool.submit(() -> guard.enter("POST", "/finalize-order/o1"));
      Future<FaultyAcmeProxy.Gate.Pass> otherOrder =
          pool.submit(() -> guard.enter("POST", "/my-order/o2"));
      assertThat(otherOrder.get(5, TimeUnit.SECONDS)).isNotNull();
      Thread.sleep(100);
      assertThat(sameOrder).isNotDone();
      order.close();
      FaultyAcmeProxy.Gate.Pass finalize = sameOrder.get(5, TimeUnit.SECONDS);
      assertThat(finalize).isNotNull();

      Future<FaultyAcmeProxy.Gate.Pass> authorization =
          pool.submit(() -> guard.enter("POST", "/authZ/a1"));
      Thread.sleep(100);
      assertThat(authorization).isNotDone();
      finalize.close();
      otherOrder.get().close();
      assertThat(authorization.get(5, TimeUnit.SECONDS)).isNotNull();
      // Challenges, nonces and certificates meet neither wedge: never held.
      assertThat(guard.enter("POST", "/chalZ/c1")).isNotNull();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void waitingTooLongGivesNothingAndHoldsNothing() throws Exception {
    PebbleGuard guard = new PebbleGuard(Duration.ofMillis(50));
    FaultyAcmeProxy.Gate.Pass authorization = guard.enter("POST", "/authZ/a1");
    assertThat(guard.enter("POST", "/order-plz")).isNull();
    authorization.close();
    assertThat(guard.enter("POST", "/order-plz")).isNotNull();
  }
}
