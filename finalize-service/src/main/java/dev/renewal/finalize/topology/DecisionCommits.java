package dev.renewal.finalize.topology;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * When to ask Streams to commit at once after an order decision ({@code OrderReady} or {@code
 * RenewalFailed}), instead of at the next commit interval.
 *
 * <p>The finalization worker reads {@code read_committed}: it sees a decision only once the
 * reconciliation's transaction commits. Waiting for the interval (100 ms) cost a certificate 50 ms
 * on average when requests come one at a time. Committing after every decision cost a transaction
 * per certificate under load (four times as many: 1.2 {@code EndTxn} and 3.4 {@code
 * AddPartitionsToTxn} requests per certificate instead of 0.3 and 1.0, and about a sixth of the
 * throughput, in {@code renewal bench}). So a decision is committed at once only when the previous
 * one, in any task of this application instance, is at least {@code quiet} old: sparse decisions go
 * out at once, dense ones ride on the interval's commits, which come often enough then.
 */
final class DecisionCommits {
  private final long quietMs;
  private final AtomicLong lastDecisionMs = new AtomicLong(Long.MIN_VALUE / 2);

  DecisionCommits(Duration quiet) {
    this.quietMs = quiet.toMillis();
  }

  /** Notes a decision made at {@code nowMs}; true if Streams should commit at once. */
  boolean decided(long nowMs) {
    long previous = lastDecisionMs.getAndSet(nowMs);
    return nowMs - previous >= quietMs;
  }
}
