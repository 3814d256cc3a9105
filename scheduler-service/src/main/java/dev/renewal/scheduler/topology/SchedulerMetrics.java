package dev.renewal.scheduler.topology;

import dev.renewal.events.DueReason;
import dev.renewal.events.ManagedCertificate;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.scheduler.domain.Inventory;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;

/**
 * What the scheduler shows, named like cert-manager's certificate metrics, for the certificates
 * whose partitions this instance holds: per name {@code
 * renewal_certificate_expiration_timestamp_seconds}, {@code
 * renewal_certificate_renewal_timestamp_seconds} (the next renewal; absent when none is scheduled)
 * and {@code renewal_certificate_ready} (1 while managed and its certificate is valid); the counts
 * {@code renewal_certificates{state="managed"|"renewing"|"failing"}}; and renewals decided ({@code
 * renewal_renewals_due_total{reason}}).
 */
public final class SchedulerMetrics {
  private static final String PREFIX = ServiceMetrics.PREFIX;

  private final ServiceMetrics metrics;
  private final MeterRegistry registry;
  private final Map<String, ManagedCertificate> shown = new ConcurrentHashMap<>();
  private final Map<String, List<Gauge>> gauges = new ConcurrentHashMap<>();
  private final AtomicInteger scheduled = new AtomicInteger();
  private final java.time.Clock clock;

  public SchedulerMetrics(ServiceMetrics metrics) {
    this(metrics, java.time.Clock.systemUTC());
  }

  /** With {@code clock} for readiness (tests). */
  public SchedulerMetrics(ServiceMetrics metrics, java.time.Clock clock) {
    this.metrics = metrics;
    this.clock = clock;
    this.registry = metrics.registry();
    metrics.inFlight("scheduled", scheduled::get);
    count("managed", ManagedCertificate::getManaged);
    count("renewing", c -> c.getManaged() && Inventory.renewing(c));
    count("failing", c -> c.getManaged() && Inventory.failing(c));
  }

  private void count(String state, Predicate<ManagedCertificate> which) {
    Gauge.builder(PREFIX + "certificates", shown, m -> m.values().stream().filter(which).count())
        .description("managed certificates of this instance's partitions, by state")
        .tag("state", state)
        .register(registry);
  }

  void due(DueReason reason) {
    metrics.count("renewals.due", "reason", reason.name().toLowerCase(Locale.ROOT));
  }

  /** A revocation of a managed certificate, folded into the inventory. */
  void revoked(dev.renewal.events.RevocationReason reason) {
    metrics.count("certificates.revoked", "reason", reason.name().toLowerCase(Locale.ROOT));
  }

  /** A task schedules {@code delta} more certificates (fewer when negative). */
  void scheduled(int delta) {
    scheduled.addAndGet(delta);
  }

  /** The certificate's state now (null: gone from this instance). */
  void certificate(String name, ManagedCertificate c) {
    if (c == null) {
      shown.remove(name);
      List<Gauge> old = gauges.remove(name);
      if (old != null) {
        old.forEach(registry::remove);
      }
      return;
    }
    shown.put(name, c);
    gauges.computeIfAbsent(
        name,
        n ->
            List.of(
                gauge(
                    n,
                    "certificate.expiration.timestamp.seconds",
                    s -> seconds(s.getCurrent() == null ? null : s.getCurrent().getNotAfter())),
                gauge(
                    n, "certificate.renewal.timestamp.seconds", s -> seconds(s.getNextRenewalAt())),
                gauge(
                    n,
                    "certificate.ready",
                    s ->
                        s.getManaged()
                                && s.getCurrent() != null
                                && s.getCurrent().getNotAfter().isAfter(clock.instant())
                                && Inventory.currentRevocation(s).isEmpty()
                            ? 1
                            : 0)));
  }

  private Gauge gauge(String name, String metric, ToDoubleFunction<ManagedCertificate> value) {
    return Gauge.builder(
            PREFIX + metric,
            shown,
            m -> {
              ManagedCertificate c = m.get(name);
              return c == null ? Double.NaN : value.applyAsDouble(c);
            })
        .tag("name", name)
        .register(registry);
  }

  private static double seconds(Instant at) {
    return at == null ? Double.NaN : at.toEpochMilli() / 1000.0;
  }
}
