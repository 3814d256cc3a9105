package dev.renewal.local.bench;

import dev.renewal.config.Settings;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.RenewalRequested;
import dev.renewal.infra.EmbeddedStack;
import dev.renewal.scheduler.SchedulerServiceApp;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.Topic;
import dev.renewal.topics.TopicReader;
import dev.renewal.topics.TopicSettings;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code renewal bench scheduler}: what scheduler-service costs for many managed certificates, on
 * the embedded broker and without a CA. Publishes a request and an issued certificate (90 days) for
 * each of {@code --certificates} names, waits until the inventory holds them all, measures the
 * Streams thread's CPU per punctuation while nothing is due, the heap; then issues every one again
 * with a lifetime already past its renewal time, and measures how fast the RenewalDue decisions
 * come.
 */
@Command(
    name = "scheduler",
    mixinStandardHelpOptions = true,
    description = {
      "Measures scheduler-service with many managed certificates (no CA): the inventory's fold,"
          + " the CPU of a punctuation with nothing due, the heap, and the rate of renewals"
          + " decided when they are all due at once."
    })
public final class SchedulerBenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--certificates",
      defaultValue = "10000",
      description = "Managed certificates (default: ${DEFAULT-VALUE}).")
  int certificates;

  @Option(
      names = "--idle",
      defaultValue = "PT30S",
      description =
          "How long to measure punctuations with nothing due (default: ${DEFAULT-VALUE}).")
  Duration idle;

  @Option(
      names = "--work-dir",
      defaultValue = "${env:RENEWAL_WORK_DIR:-.renewal}/bench",
      description = "Where data goes (default: ${DEFAULT-VALUE}).")
  Path workDir;

  @Override
  public Integer call() throws Exception {
    if (certificates < 1) {
      throw new ParameterException(spec.commandLine(), "--certificates must be at least 1");
    }
    PrintWriter out = spec.commandLine().getOut();
    Path run = workDir.resolve("scheduler-" + Instant.now().toString().replace(":", ""));
    out.printf(
        "renewal bench scheduler: %d managed certificates, %d cores, max heap %s%n",
        certificates,
        Runtime.getRuntime().availableProcessors(),
        ProcessMemory.mib(ProcessMemory.heapMaxBytes()));
    out.flush();
    try (EmbeddedStack stack =
        EmbeddedStack.start(
            run.resolve("kafka"), 0, 0, new TopicSettings("", 3, (short) 1, 3_600_000L))) {
      Map<String, String> s = new HashMap<>();
      s.put("kafka.bootstrap.servers", stack.bootstrapServers());
      s.put("registry.url", stack.registryUrl().toString());
      s.put("ca.profiles", "bench");
      s.put("scheduler.state.dir", run.resolve("state").toString());
      s.put("scheduler.metrics.port", "-1");
      Instant now = Instant.now();
      try (SchedulerServiceApp app = SchedulerServiceApp.start(Settings.of(s));
          Publisher publisher = Publisher.create(stack.clientProps(), "bench-scheduler")) {
        awaitRunning(app);
        long t0 = System.nanoTime();
        publish(publisher, stack, now, Duration.ofDays(90));
        long folded =
            awaitRecords(stack, stack.topics().inventory, certificates, Duration.ofMinutes(10));
        double foldSeconds = (System.nanoTime() - t0) / 1e9;
        out.printf(
            "  inventory          %d certificates folded in %.1f s (%.0f facts/s; a request and a certificate each)%n",
            folded, foldSeconds, 2 * folded / foldSeconds);

        // Nothing due: what a punctuation costs with every certificate scheduled.
        long cpuBefore = streamThreadCpu();
        long wall0 = System.nanoTime();
        Thread.sleep(idle.toMillis());
        long cpu = streamThreadCpu() - cpuBefore;
        double punctuations = (System.nanoTime() - wall0) / 1e9; // one a second
        System.gc();
        Thread.sleep(500);
        long heap = ProcessMemory.heapUsedBytes();
        out.printf(
            "  idle, nothing due  %.3f ms of the Streams thread's CPU per punctuation (%d s, one"
                + " a second; the thread's whole CPU, polls included)%n",
            cpu / 1e6 / punctuations, idle.toSeconds());
        out.printf(
            "  heap after GC      %s (one JVM: broker, registry, scheduler, bench driver)%n",
            ProcessMemory.mib(heap));

        // Everything due at once: each certificate issued again, its renewal time already past.
        long t1 = System.nanoTime();
        // Later than the first certificates (so they become the current ones), and short-lived:
        // half of 10 s is left 5 s after their start, long past by now.
        publish(publisher, stack, now.plusSeconds(1), Duration.ofSeconds(10));
        long decided =
            awaitRecords(stack, stack.topics().due, certificates, Duration.ofMinutes(10));
        double dueSeconds = (System.nanoTime() - t1) / 1e9;
        out.printf(
            "  all due at once    %d RenewalDue (and their requests) in %.1f s (%.0f renewals/s)%n",
            decided, dueSeconds, decided / dueSeconds);
        out.flush();
        return decided == certificates && folded == certificates ? 0 : 1;
      }
    }
  }

  private void publish(Publisher publisher, EmbeddedStack stack, Instant notBefore, Duration life)
      throws Exception {
    List<CompletableFuture<?>> sends = new ArrayList<>();
    for (int i = 0; i < certificates; i++) {
      String name = "cert-" + i;
      String id = UUID.randomUUID().toString();
      RenewalRequested r =
          RenewalRequested.newBuilder()
              .setEventId(UUID.randomUUID().toString())
              .setRequestId(id)
              .setOccurredAt(notBefore.minusSeconds(1))
              .setCertificateName(name)
              .setDnsNames(List.of(name + ".bench.example"))
              .setChallengeType(ChallengeType.HTTP_01)
              .setCaProfile("bench")
              .build();
      CertificateIssued c =
          CertificateIssued.newBuilder()
              .setEventId(UUID.randomUUID().toString())
              .setRequestId(id)
              .setOccurredAt(notBefore)
              .setCertificateName(name)
              .setOrderUrl("https://ca.bench.example/order/" + i)
              .setCertificateUrl("https://ca.bench.example/cert/" + i)
              .setChainPem("(not a certificate: bench)")
              .setSerialNumber(Long.toHexString(System.nanoTime()) + i)
              .setNotBefore(notBefore)
              .setNotAfter(notBefore.plus(life))
              .setIssuer("CN=bench")
              .setDnsNames(r.getDnsNames())
              .build();
      sends.add(publisher.send(stack.topics().renewalRequested, id, r));
      sends.add(publisher.send(stack.topics().certificateIssued, id, c));
    }
    CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get();
  }

  /** Waits until {@code topic} holds records for {@code n} distinct keys; returns how many. */
  private static <V> long awaitRecords(
      EmbeddedStack stack, Topic<String, V> topic, int n, Duration timeout) {
    Set<String> keys = new HashSet<>();
    new TopicReader(stack.clientProps()).await(topic, r -> keys.add(r.key()), n, timeout);
    return keys.size();
  }

  private static void awaitRunning(SchedulerServiceApp app) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!app.ready() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
  }

  /** CPU time (ns) of the scheduler's Streams threads so far. */
  private static long streamThreadCpu() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long total = 0;
    for (ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (t != null
          && t.getThreadName().contains("renewal-scheduler-service")
          && t.getThreadName().contains("StreamThread")) {
        long c = threads.getThreadCpuTime(t.getThreadId());
        if (c > 0) {
          total += c;
        }
      }
    }
    return total;
  }
}
