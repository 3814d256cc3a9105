package dev.renewal.local.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;

/** Nearest-rank percentiles of a set of durations. */
public final class Percentiles {
  private final List<Duration> sorted;

  public Percentiles(Collection<Duration> values) {
    List<Duration> s = new ArrayList<>(values);
    Collections.sort(s);
    this.sorted = List.copyOf(s);
  }

  public int count() {
    return sorted.size();
  }

  /** The smallest value with at least {@code p} percent of the values at or below it. */
  public Duration at(double p) {
    if (sorted.isEmpty()) {
      return Duration.ZERO;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }

  public Duration max() {
    return sorted.isEmpty() ? Duration.ZERO : sorted.get(sorted.size() - 1);
  }

  /** {@code p50 / p95 / p99} in milliseconds, e.g. {@code 412 / 690 / 802 ms}. */
  public String summary() {
    return String.format(
        "%d / %d / %d ms", at(50).toMillis(), at(95).toMillis(), at(99).toMillis());
  }
}
