package dev.renewal.order.handler;

import dev.renewal.acme.AcmeFailure;
import dev.renewal.events.Stage;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Counters of what order-service did, for logs, tests and (later) a metrics endpoint. */
public final class OrderMetrics {
  private final LongAdder received = new LongAdder();
  private final LongAdder placed = new LongAdder();
  private final LongAdder resumed = new LongAdder();
  private final LongAdder duplicates = new LongAdder();
  private final LongAdder deadLettered = new LongAdder();
  private final LongAdder caNanos = new LongAdder();
  private final Map<String, LongAdder> failures = new ConcurrentHashMap<>();
  private final Map<AcmeFailure.Kind, LongAdder> retries = new ConcurrentHashMap<>();

  void received() {
    received.increment();
  }

  void placed(boolean wasResumed) {
    placed.increment();
    if (wasResumed) {
      resumed.increment();
    }
  }

  void duplicate() {
    duplicates.increment();
  }

  public void deadLettered() {
    deadLettered.increment();
  }

  void caLatency(Duration d) {
    caNanos.add(d.toNanos());
  }

  void failed(Stage stage, String problemType) {
    failures.computeIfAbsent(stage + " " + problemType, k -> new LongAdder()).increment();
  }

  void retried(AcmeFailure.Kind kind) {
    retries.computeIfAbsent(kind, k -> new LongAdder()).increment();
  }

  /** Every counter by name. */
  public Map<String, Long> snapshot() {
    Map<String, Long> out = new TreeMap<>();
    out.put("requests.received", received.sum());
    out.put("orders.placed", placed.sum());
    out.put("orders.resumed", resumed.sum());
    out.put("requests.duplicate", duplicates.sum());
    out.put("requests.dead.lettered", deadLettered.sum());
    failures.forEach((k, v) -> out.put("failures " + k, v.sum()));
    retries.forEach((k, v) -> out.put("retries " + k, v.sum()));
    return out;
  }

  public long retryCount() {
    return retries.values().stream().mapToLong(LongAdder::sum).sum();
  }
}
