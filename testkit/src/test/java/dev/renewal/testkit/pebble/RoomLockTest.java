package dev.renewal.testkit.pebble;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.testkit.pebble.RoomLock.Room;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RoomLockTest {
  private final RoomLock lock = new RoomLock();

  @Test
  void manyShareOneRoom() throws Exception {
    assertThat(lock.enter(Room.AUTHORIZATIONS, 1, TimeUnit.SECONDS)).isTrue();
    assertThat(lock.enter(Room.AUTHORIZATIONS, 1, TimeUnit.SECONDS)).isTrue();
    assertThat(lock.state()).isEqualTo("AUTHORIZATIONS inside=2");
  }

  @Test
  void nobodyEntersTheOtherRoomWhileOneIsOccupied() throws Exception {
    assertThat(lock.enter(Room.STORE, 1, TimeUnit.SECONDS)).isTrue();
    assertThat(lock.enter(Room.AUTHORIZATIONS, 50, TimeUnit.MILLISECONDS)).isFalse();
    lock.leave();
    assertThat(lock.enter(Room.AUTHORIZATIONS, 50, TimeUnit.MILLISECONDS)).isTrue();
  }

  @Test
  void aWaiterForTheOtherRoomStopsNewcomersAndGoesInWhenTheRoomEmpties() throws Exception {
    assertThat(lock.enter(Room.STORE, 1, TimeUnit.SECONDS)).isTrue();
    ExecutorService pool = Executors.newCachedThreadPool();
    try {
      Future<Boolean> authorization =
          pool.submit(() -> lock.enter(Room.AUTHORIZATIONS, 5, TimeUnit.SECONDS));
      awaitWaiting();
      // The store room is occupied and someone waits for the other: a newcomer waits its turn.
      Future<Boolean> store = pool.submit(() -> lock.enter(Room.STORE, 5, TimeUnit.SECONDS));
      Thread.sleep(100);
      assertThat(store).isNotDone();
      lock.leave();
      assertThat(authorization.get(5, TimeUnit.SECONDS)).isTrue();
      assertThat(store).isNotDone();
      lock.leave();
      assertThat(store.get(5, TimeUnit.SECONDS)).isTrue();
      assertThat(lock.state()).isEqualTo("STORE inside=1");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void everyWaiterOfARoomGoesInTogether() throws Exception {
    assertThat(lock.enter(Room.STORE, 1, TimeUnit.SECONDS)).isTrue();
    ExecutorService pool = Executors.newCachedThreadPool();
    try {
      List<Future<Boolean>> waiters = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        waiters.add(pool.submit(() -> lock.enter(Room.AUTHORIZATIONS, 5, TimeUnit.SECONDS)));
      }
      Thread.sleep(100);
      lock.leave();
      for (Future<Boolean> w : waiters) {
        assertThat(w.get(5, TimeUnit.SECONDS)).isTrue();
      }
      assertThat(lock.state()).isEqualTo("AUTHORIZATIONS inside=5");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aWaiterThatGivesUpLeavesNoTurnBehind() throws Exception {
    assertThat(lock.enter(Room.STORE, 1, TimeUnit.SECONDS)).isTrue();
    assertThat(lock.enter(Room.AUTHORIZATIONS, 20, TimeUnit.MILLISECONDS)).isFalse();
    lock.leave();
    // Nobody waits any more: either room is free at once.
    assertThat(lock.enter(Room.STORE, 0, TimeUnit.MILLISECONDS)).isTrue();
    lock.leave();
    assertThat(lock.enter(Room.AUTHORIZATIONS, 0, TimeUnit.MILLISECONDS)).isTrue();
  }

  @Test
  void underContentionTheRoomsNeverMixAndBothMakeProgress() throws Exception {
    AtomicInteger[] inside = {new AtomicInteger(), new AtomicInteger()};
    AtomicInteger mixed = new AtomicInteger();
    AtomicInteger[] done = {new AtomicInteger(), new AtomicInteger()};
    int threads = 16;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Room room = t % 4 == 0 ? Room.AUTHORIZATIONS : Room.STORE;
        workers.add(
            pool.submit(
                () -> {
                  start.await();
                  while (System.nanoTime() < until) {
                    assertThat(lock.enter(room, 5, TimeUnit.SECONDS)).isTrue();
                    inside[room.ordinal()].incrementAndGet();
                    if (inside[room.other().ordinal()].get() > 0) {
                      mixed.incrementAndGet();
                    }
                    Thread.onSpinWait();
                    inside[room.ordinal()].decrementAndGet();
                    lock.leave();
                    done[room.ordinal()].incrementAndGet();
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> w : workers) {
        w.get(10, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(mixed).hasValue(0);
    assertThat(done[0].get()).isPositive();
    assertThat(done[1].get()).isPositive();
    assertThat(lock.state()).endsWith("inside=0");
  }

  private void awaitWaiting() throws InterruptedException {
    // The other thread is in enter(): it cannot get in while the store room is occupied.
    Thread.sleep(100);
  }
}
