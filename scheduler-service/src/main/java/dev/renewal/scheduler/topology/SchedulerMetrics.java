package dev.renewal.scheduler.topology;

import dev.renewal.events.DueReason;
import dev.renewal.metrics.ServiceMetrics;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the scheduler counts: renewals decided, by reason ({@code renewal_renewals_due_total}), and
 * the certificates with a next renewal scheduled in this instance's tasks ({@code
 * renewal_in_flight{what="scheduled"}}).
 */
public final class SchedulerMetrics {
  private final ServiceMetrics metrics;
  private final AtomicInteger scheduled = new AtomicInteger();

  public SchedulerMetrics(ServiceMetrics metrics) {
    this.metrics = metrics;
    metrics.inFlight("scheduled", scheduled::get);
  }

  void due(DueReason reason) {
    metrics.count("renewals.due", "reason", reason.name().toLowerCase(Locale.ROOT));
  }

  /** A task schedules {@code delta} more certificates (fewer when negative). */
  void scheduled(int delta) {
    scheduled.addAndGet(delta);
  }
}
