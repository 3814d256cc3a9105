package dev.renewal.local.bench;

import dev.renewal.acme.AccountStore;
import dev.renewal.acme.CaProfile;
import dev.renewal.acme.CaProfiles;
import dev.renewal.config.Settings;
import dev.renewal.infra.kafka.EmbeddedKafka;
import dev.renewal.local.LocalPipeline;
import dev.renewal.testkit.pebble.PebbleServer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code renewal bench ca-stress}: does the local test CA stay up at high concurrency? Runs the
 * direct acme4j client against a fresh Pebble per run, at each concurrency, and calls a run wedged
 * when no certificate has been issued for {@code --stall}; prints one line per run and a summary.
 * {@code --unguarded} leaves out the guard in front of Pebble, to show the wedge it prevents.
 */
@Command(
    name = "ca-stress",
    mixinStandardHelpOptions = true,
    description = {
      "Stresses the local test CA (Pebble, behind its guard unless --unguarded) with the direct"
          + " acme4j client: --runs runs of --requests certificates at each --concurrency, a fresh"
          + " Pebble for each. A run is wedged when no certificate is issued for --stall."
    })
public final class CaStressCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--concurrency",
      split = ",",
      defaultValue = "16,32",
      description = "Client threads, one run set per value (default: ${DEFAULT-VALUE}).")
  List<Integer> concurrency;

  @Option(
      names = "--requests",
      defaultValue = "1000",
      description = "Certificates per run (default: ${DEFAULT-VALUE}).")
  int requests;

  @Option(
      names = "--runs",
      defaultValue = "5",
      description = "Runs at each concurrency (default: ${DEFAULT-VALUE}).")
  int runs;

  @Option(
      names = "--stall",
      defaultValue = "PT20S",
      description = "No certificate for this long is a wedge (default: ${DEFAULT-VALUE}).")
  Duration stall;

  @Option(names = "--unguarded", description = "Talk to Pebble itself, without the guard.")
  boolean unguarded;

  @Option(
      names = "--work-dir",
      defaultValue = "${env:RENEWAL_WORK_DIR:-.renewal}/bench",
      description = "Where Pebble's files and the account keys go (default: ${DEFAULT-VALUE}).")
  Path workDir;

  /** One run's outcome. */
  record Run(int concurrency, int issued, int failed, Duration wall, boolean wedged) {
    double perSecond() {
      return issued / Math.max(1e-9, wall.toNanos() / 1e9);
    }
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (runs < 1 || requests < 1 || concurrency.stream().anyMatch(c -> c < 1)) {
      throw new ParameterException(
          spec.commandLine(), "--runs, --requests and --concurrency must be at least 1");
    }
    if (!LocalPipeline.ensurePebble(out)) {
      return 3;
    }
    Path dir = workDir.resolve("ca-stress-" + Instant.now().toString().replace(":", ""));
    out.printf(
        "renewal bench ca-stress: Pebble %s, %d runs of %d certificates at concurrency %s,"
            + " wedged after %d s without a certificate%n",
        unguarded ? "UNGUARDED" : "behind its guard",
        runs,
        requests,
        concurrency,
        stall.toSeconds());
    out.flush();
    List<Run> all = new ArrayList<>();
    int n = 0;
    for (int c : concurrency) {
      for (int r = 1; r <= runs; r++) {
        Run run = run(dir.resolve("run-" + (++n)), c, n);
        all.add(run);
        out.printf(
            "  concurrency %2d, run %d: %4d issued, %d failed, %5.1f certs/s, %s%n",
            c,
            r,
            run.issued(),
            run.failed(),
            run.perSecond(),
            run.wedged() ? "WEDGED" : "no wedge");
        out.flush();
      }
    }
    long wedges = all.stream().filter(Run::wedged).count();
    out.printf("%d of %d runs wedged%n", wedges, all.size());
    for (int c : concurrency) {
      double[] rates =
          all.stream()
              .filter(x -> x.concurrency() == c && !x.wedged())
              .mapToDouble(Run::perSecond)
              .sorted()
              .toArray();
      if (rates.length > 0) {
        out.printf(
            "  concurrency %d: median %.1f certs/s over %d runs without a wedge%n",
            c, rates[rates.length / 2], rates.length);
      }
    }
    out.flush();
    return wedges == 0 ? 0 : 1;
  }

  private Run run(Path dir, int threads, int n) throws Exception {
    int httpPort = EmbeddedKafka.freePort();
    PebbleServer.Options options =
        PebbleServer.Options.defaults(dir.resolve("pebble"), httpPort)
            .withEnvironment(Map.of("PEBBLE_AUTHZREUSE", "0"));
    PebbleServer pebble = PebbleServer.start(unguarded ? options.unguarded() : options);
    try {
      CaProfile profile =
          CaProfiles.from(
                  Settings.of(
                      Map.of(
                          "ca.profiles", "stress",
                          "ca.stress.directory.url", pebble.directoryUrl().toString(),
                          "ca.stress.trust.pem", pebble.trustPem().toString(),
                          "ca.stress.terms.agreed", "true",
                          "ca.stress.contact", "mailto:stress@example.com")))
              .get("stress")
              .orElseThrow();
      AtomicInteger issued = new AtomicInteger();
      AtomicInteger failed = new AtomicInteger();
      AtomicLong lastIssued = new AtomicLong(System.nanoTime());
      AtomicBoolean wedged = new AtomicBoolean();
      ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor();
      long started = System.nanoTime();
      try (DirectClient client =
          new DirectClient(profile, new AccountStore(dir.resolve("keys")), httpPort)) {
        watchdog.scheduleAtFixedRate(
            () -> {
              if (!wedged.get() && System.nanoTime() - lastIssued.get() > stall.toNanos()) {
                // Stopped, Pebble answers nothing more: every request in flight fails at once
                // instead of waiting out its timeouts.
                wedged.set(true);
                pebble.close();
              }
            },
            1,
            1,
            TimeUnit.SECONDS);
        client.run(
            IntStream.range(0, requests)
                .mapToObj(i -> "s" + n + "-" + i + ".stress.example")
                .toList(),
            threads,
            result -> {
              if (result.error() == null) {
                issued.incrementAndGet();
                lastIssued.set(System.nanoTime());
              } else {
                failed.incrementAndGet();
              }
            });
      } finally {
        watchdog.shutdownNow();
      }
      Duration wall =
          Duration.ofNanos((wedged.get() ? lastIssued.get() : System.nanoTime()) - started);
      return new Run(threads, issued.get(), failed.get(), wall, wedged.get());
    } finally {
      pebble.close();
    }
  }
}
