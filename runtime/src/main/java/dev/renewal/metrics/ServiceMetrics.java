package dev.renewal.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * One service's metrics: Micrometer meters in a Prometheus registry, every meter tagged with the
 * service name. Counter names are given without the {@code renewal.} prefix ({@code
 * "orders.placed"} becomes {@code renewal_orders_placed_total} on the Prometheus endpoint).
 *
 * <p>The names every service shares are methods here ({@link #failed}, {@link #stageLatency},
 * {@link #inFlight}); the rest are counted by name with {@link #count}. docs/metrics.md lists them
 * all.
 */
public final class ServiceMetrics {
  /** Prefix of every meter of the pipeline's own. */
  public static final String PREFIX = "renewal.";

  private static final Duration LATENCY_MIN = Duration.ofMillis(5);
  private static final Duration LATENCY_MAX = Duration.ofHours(1);

  private final String service;
  private final PrometheusMeterRegistry registry;

  public ServiceMetrics(String service) {
    this.service = service;
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().commonTags("service", service);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  public String service() {
    return service;
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Adds one to the counter {@code renewal.<name>} with the given tag key/value pairs. */
  public void count(String name, String... tags) {
    add(name, 1, tags);
  }

  /** Adds {@code amount} to the counter {@code renewal.<name>} with the given tag pairs. */
  public void add(String name, long amount, String... tags) {
    registry.counter(PREFIX + name, tags).increment(amount);
  }

  /** A renewal failed at {@code stage} with a problem of {@code problemType}. */
  public void failed(Object stage, String problemType) {
    count(
        "failures",
        "stage",
        String.valueOf(stage).toLowerCase(Locale.ROOT),
        "problem_type",
        problemType == null ? "unknown" : problemType);
  }

  /**
   * How long a stage took, from {@code since} to {@code until}: a histogram {@code
   * renewal.stage.latency} tagged with the stage. Negative spans (clock skew between hosts) count
   * as zero.
   */
  public void stageLatency(String stage, Instant since, Instant until) {
    if (since == null || until == null) {
      return;
    }
    Duration d = Duration.between(since, until);
    stageLatency(stage, d.isNegative() ? Duration.ZERO : d);
  }

  public void stageLatency(String stage, Duration d) {
    Timer.builder(PREFIX + "stage.latency")
        .description("time spent in a stage of the renewal")
        .tag("stage", stage)
        .publishPercentileHistogram()
        .minimumExpectedValue(LATENCY_MIN)
        .maximumExpectedValue(LATENCY_MAX)
        .register(registry)
        .record(d);
  }

  /** The gauge {@code renewal.in.flight}: how much work the service holds now. */
  public void inFlight(String what, Supplier<Number> size) {
    Gauge.builder(PREFIX + "in.flight", size)
        .description("work in progress in the service")
        .tag("what", what)
        .strongReference(true)
        .register(registry);
  }

  /**
   * The counter {@code renewal.<name>} whose value {@code total} keeps (a count held by another
   * component, e.g. the HTTP-01 responder's answers).
   */
  public void countedBy(String name, Supplier<Number> total, String... tags) {
    FunctionCounter.builder(PREFIX + name, total, t -> t.get().doubleValue())
        .tags(tags)
        .register(registry);
  }

  /** The sum of every counter {@code renewal.<name>} whose tags include {@code tags}. */
  public long get(String name, String... tags) {
    return (long)
        registry.find(PREFIX + name).tags(tags).counters().stream()
            .mapToDouble(Counter::count)
            .sum();
  }

  /** Every counter of the pipeline's own, by name (without prefix), summed over its tags. */
  public Map<String, Long> snapshot() {
    Map<String, Long> out = new TreeMap<>();
    for (Meter m : registry.getMeters()) {
      String name = m.getId().getName();
      if (m instanceof Counter c && name.startsWith(PREFIX)) {
        out.merge(name.substring(PREFIX.length()), (long) c.count(), Long::sum);
      }
    }
    return out;
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }
}
