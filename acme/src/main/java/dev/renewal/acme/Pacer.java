package dev.renewal.acme;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Keeps one CA's limits without blocking anybody: at most {@code maxInFlight} operations at once
 * and at most {@code ratePerSecond} started per second (a token bucket). Work beyond the limits
 * waits in a queue; nothing sleeps. Operations run on {@code workers}; delays are scheduled on
 * {@code scheduler}.
 */
public final class Pacer {
  private final int maxInFlight;
  private final double ratePerSecond;
  private final ExecutorService workers;
  private final ScheduledExecutorService scheduler;
  private final Deque<Runnable> waiting = new ArrayDeque<>();
  private int inFlight;
  private double tokens;
  private long lastRefill = System.nanoTime();
  private boolean wakeupScheduled;

  public Pacer(
      int maxInFlight,
      double ratePerSecond,
      ExecutorService workers,
      ScheduledExecutorService scheduler) {
    this.maxInFlight = maxInFlight;
    this.ratePerSecond = ratePerSecond;
    this.workers = workers;
    this.scheduler = scheduler;
    this.tokens = Math.max(1, ratePerSecond);
  }

  /** Runs {@code operation} on a worker when the limits allow; completes with its result. */
  public <T> CompletableFuture<T> submit(Supplier<T> operation) {
    CompletableFuture<T> result = new CompletableFuture<>();
    // The slot is released before the future completes, so that work chained on it finds the
    // slot free (and a caller that saw the result sees the slot released).
    Runnable task =
        () -> {
          T value = null;
          Throwable error = null;
          try {
            value = operation.get();
          } catch (RuntimeException | Error e) {
            error = e;
          }
          finished();
          if (error != null) {
            result.completeExceptionally(error);
          } else {
            result.complete(value);
          }
        };
    synchronized (this) {
      waiting.add(task);
    }
    drain();
    return result;
  }

  /** Runs {@code operation} through the pacer after {@code delay}. */
  public <T> CompletableFuture<T> submitAfter(Duration delay, Supplier<T> operation) {
    CompletableFuture<T> result = new CompletableFuture<>();
    scheduler.schedule(
        () -> {
          submit(operation)
              .whenComplete(
                  (v, e) -> {
                    if (e != null) {
                      result.completeExceptionally(e);
                    } else {
                      result.complete(v);
                    }
                  });
        },
        Math.max(0, delay.toMillis()),
        TimeUnit.MILLISECONDS);
    return result;
  }

  public synchronized int inFlight() {
    return inFlight;
  }

  public synchronized int waiting() {
    return waiting.size();
  }

  private void finished() {
    synchronized (this) {
      inFlight--;
    }
    drain();
  }

  private void drain() {
    while (true) {
      Runnable next;
      synchronized (this) {
        if (waiting.isEmpty() || inFlight >= maxInFlight) {
          return;
        }
        refill();
        if (tokens < 1) {
          if (!wakeupScheduled && !scheduler.isShutdown()) {
            wakeupScheduled = true;
            long waitNanos = (long) ((1 - tokens) / ratePerSecond * 1e9);
            scheduler.schedule(
                () -> {
                  synchronized (this) {
                    wakeupScheduled = false;
                  }
                  drain();
                },
                Math.max(1, waitNanos),
                TimeUnit.NANOSECONDS);
          }
          return;
        }
        tokens -= 1;
        inFlight++;
        next = waiting.poll();
      }
      try {
        workers.execute(next);
      } catch (java.util.concurrent.RejectedExecutionException closed) {
        // The service is shutting down: the work is left undone, to be resumed from the
        // service's records on the next start.
        synchronized (this) {
          inFlight--;
        }
        return;
      }
    }
  }

  private void refill() {
    long now = System.nanoTime();
    tokens =
        Math.min(Math.max(1, ratePerSecond), tokens + (now - lastRefill) / 1e9 * ratePerSecond);
    lastRefill = now;
  }
}
