package dev.renewal.acme;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A service's CA workers: per profile, a pool of {@code max.in.flight} worker threads (each with
 * its own acme4j Session) behind a {@link Pacer}, plus one scheduler for every delay.
 */
public final class CaWorkers implements AutoCloseable {
  private final Map<String, Pacer> byProfile;
  private final ScheduledExecutorService scheduler;
  private final List<ExecutorService> executors;

  private CaWorkers(
      Map<String, Pacer> byProfile,
      ScheduledExecutorService scheduler,
      List<ExecutorService> executors) {
    this.byProfile = Map.copyOf(byProfile);
    this.scheduler = scheduler;
    this.executors = List.copyOf(executors);
  }

  public static CaWorkers create(CaProfiles profiles, String service) {
    ScheduledExecutorService scheduler =
        Executors.newSingleThreadScheduledExecutor(named(service + "-scheduler"));
    List<ExecutorService> executors = new ArrayList<>(List.of(scheduler));
    Map<String, Pacer> pacers = new HashMap<>();
    for (String name : profiles.names()) {
      CaProfile profile = profiles.get(name).orElseThrow();
      ExecutorService workers =
          Executors.newFixedThreadPool(profile.maxInFlight(), named(service + "-ca-" + name));
      executors.add(workers);
      pacers.put(
          name,
          new Pacer(profile.maxInFlight(), profile.maxRequestsPerSecond(), workers, scheduler));
    }
    return new CaWorkers(pacers, scheduler, executors);
  }

  public Map<String, Pacer> byProfile() {
    return byProfile;
  }

  public ScheduledExecutorService scheduler() {
    return scheduler;
  }

  private static ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public void close() {
    executors.forEach(ExecutorService::shutdownNow);
    for (ExecutorService e : executors) {
      try {
        e.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
