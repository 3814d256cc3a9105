package dev.renewal.acme;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PacerTest {
  private final ExecutorService workers = Executors.newFixedThreadPool(16);
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

  @AfterEach
  void stop() {
    workers.shutdownNow();
    scheduler.shutdownNow();
  }

  @Test
  void neverRunsMoreThanMaxInFlightAtOnce() throws Exception {
    Pacer pacer = new Pacer(3, 10_000, workers, scheduler);
    AtomicInteger running = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    CountDownLatch release = new CountDownLatch(1);
    List<CompletableFuture<Integer>> all = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      all.add(
          pacer.submit(
              () -> {
                peak.accumulateAndGet(running.incrementAndGet(), Math::max);
                try {
                  release.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                running.decrementAndGet();
                return 1;
              }));
    }
    Thread.sleep(100);
    assertThat(pacer.inFlight()).isEqualTo(3);
    assertThat(pacer.waiting()).isEqualTo(17);
    release.countDown();
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    assertThat(peak.get()).isEqualTo(3);
    assertThat(pacer.inFlight()).isZero();
  }

  @Test
  void startsAtMostRatePerSecond() throws Exception {
    Pacer pacer = new Pacer(100, 20, workers, scheduler);
    long started = System.nanoTime();
    List<CompletableFuture<Long>> all = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      all.add(pacer.submit(System::nanoTime));
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    long last = all.stream().mapToLong(CompletableFuture::join).max().orElseThrow();
    // 20 tokens at once, then 20 more at 20/s: the last starts about a second later.
    assertThat(Duration.ofNanos(last - started))
        .isBetween(Duration.ofMillis(800), Duration.ofMillis(3000));
  }

  @Test
  void aFailingOperationFreesItsSlotAndFailsItsFuture() throws Exception {
    Pacer pacer = new Pacer(1, 1000, workers, scheduler);
    CompletableFuture<Object> failed =
        pacer.submit(
            () -> {
              throw new IllegalStateException("boom");
            });
    CompletableFuture<String> next = pacer.submit(() -> "ok");
    assertThat(next.get(5, TimeUnit.SECONDS)).isEqualTo("ok");
    assertThat(failed).isCompletedExceptionally();
  }

  @Test
  void submitAfterWaitsWithoutHoldingASlot() throws Exception {
    Pacer pacer = new Pacer(1, 1000, workers, scheduler);
    long started = System.nanoTime();
    CompletableFuture<Long> later = pacer.submitAfter(Duration.ofMillis(300), System::nanoTime);
    CompletableFuture<Long> now = pacer.submit(System::nanoTime);
    assertThat(Duration.ofNanos(now.get(5, TimeUnit.SECONDS) - started))
        .isLessThan(Duration.ofMillis(200));
    assertThat(Duration.ofNanos(later.get(5, TimeUnit.SECONDS) - started))
        .isGreaterThanOrEqualTo(Duration.ofMillis(290));
  }
}
