package dev.renewal.challenge.handler;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Counters of what challenge-service did, by name. */
public final class ChallengeMetrics {
  private final Map<String, LongAdder> counters = new ConcurrentHashMap<>();

  void count(String name) {
    counters.computeIfAbsent(name, k -> new LongAdder()).increment();
  }

  public void deadLettered() {
    count("records.dead.lettered");
  }

  public long get(String name) {
    LongAdder a = counters.get(name);
    return a == null ? 0 : a.sum();
  }

  public Map<String, Long> snapshot() {
    Map<String, Long> out = new TreeMap<>();
    counters.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }
}
