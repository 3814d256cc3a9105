package dev.renewal.challenge.provision;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Asks a check again until it says yes or a deadline passes, waiting between asks from a first
 * delay doubling to a maximum, on a scheduler: no thread waits. A check that fails counts as a no.
 */
final class Recheck {
  private Recheck() {}

  /**
   * Completes with true once {@code check} says yes, false once {@code deadlineNanos} (of {@link
   * System#nanoTime}) has passed without it.
   */
  static CompletableFuture<Boolean> until(
      ScheduledExecutorService scheduler,
      long deadlineNanos,
      long firstDelayMs,
      long maxDelayMs,
      Supplier<CompletableFuture<Boolean>> check) {
    CompletableFuture<Boolean> result = new CompletableFuture<>();
    ask(scheduler, deadlineNanos, firstDelayMs, maxDelayMs, check, result);
    return result;
  }

  private static void ask(
      ScheduledExecutorService scheduler,
      long deadlineNanos,
      long delayMs,
      long maxDelayMs,
      Supplier<CompletableFuture<Boolean>> check,
      CompletableFuture<Boolean> result) {
    check
        .get()
        .handle((yes, error) -> error == null && Boolean.TRUE.equals(yes))
        .thenAccept(
            yes -> {
              if (yes) {
                result.complete(true);
              } else if (System.nanoTime() > deadlineNanos) {
                result.complete(false);
              } else {
                scheduler.schedule(
                    () ->
                        ask(
                            scheduler,
                            deadlineNanos,
                            Math.min(delayMs * 2, maxDelayMs),
                            maxDelayMs,
                            check,
                            result),
                    delayMs,
                    TimeUnit.MILLISECONDS);
              }
            });
  }
}
