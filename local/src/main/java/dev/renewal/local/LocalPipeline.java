package dev.renewal.local;

import dev.renewal.challenge.ChallengeServiceApp;
import dev.renewal.config.Settings;
import dev.renewal.finalize.FinalizeServiceApp;
import dev.renewal.infra.EmbeddedStack;
import dev.renewal.infra.kafka.EmbeddedKafka;
import dev.renewal.order.OrderServiceApp;
import dev.renewal.scheduler.SchedulerServiceApp;
import dev.renewal.testkit.pebble.PebbleServer;
import dev.renewal.topics.TopicSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The one-machine pipeline the demo and the benchmark run: an embedded broker and registry, Pebble
 * with challtestsrv on free ports, then (on demand) the three services in this JVM. Closes
 * everything it started, last first.
 */
public final class LocalPipeline implements AutoCloseable {
  private final String profile;
  private final Path run;
  private final EmbeddedStack kafka;
  private PebbleServer pebble;
  private int httpPort;
  private final Map<String, String> pebbleEnv;
  private final List<AutoCloseable> parts = new ArrayList<>();

  private LocalPipeline(
      String profile,
      Path run,
      EmbeddedStack kafka,
      PebbleServer pebble,
      int httpPort,
      Map<String, String> pebbleEnv) {
    this.profile = profile;
    this.run = run;
    this.kafka = kafka;
    this.pebble = pebble;
    this.httpPort = httpPort;
    this.pebbleEnv = Map.copyOf(pebbleEnv);
  }

  /** Starts the broker, the registry and Pebble (with {@code pebbleEnv} added to its defaults). */
  public static LocalPipeline start(String profile, Path run, Map<String, String> pebbleEnv)
      throws IOException {
    return start(profile, run, pebbleEnv, Duration.ZERO);
  }

  /** The same, Pebble issuing certificates valid for {@code validity} (zero: its default). */
  public static LocalPipeline start(
      String profile, Path run, Map<String, String> pebbleEnv, Duration validity)
      throws IOException {
    Files.createDirectories(run);
    EmbeddedStack kafka =
        EmbeddedStack.start(
            run.resolve("kafka"), 0, 0, new TopicSettings("", 3, (short) 1, 7L * 24 * 3600 * 1000));
    int httpPort = EmbeddedKafka.freePort();
    PebbleServer pebble;
    try {
      pebble =
          PebbleServer.start(
              PebbleServer.Options.defaults(run.resolve("pebble"), httpPort)
                  .withEnvironment(pebbleEnv)
                  .withCertificateValidity(validity));
    } catch (RuntimeException e) {
      kafka.close();
      throw e;
    }
    LocalPipeline p = new LocalPipeline(profile, run, kafka, pebble, httpPort, pebbleEnv);
    p.keep(kafka);
    p.keep(pebble);
    return p;
  }

  /**
   * Replaces Pebble with a fresh one (empty store, new ports, new roots): each client of the
   * benchmark meets the same CA state. Accounts of the old one are unknown to the new one.
   */
  public void restartPebble(String tag) throws IOException {
    parts.remove(pebble);
    pebble.close();
    httpPort = EmbeddedKafka.freePort();
    pebble =
        keep(
            PebbleServer.start(
                PebbleServer.Options.defaults(run.resolve("pebble-" + tag), httpPort)
                    .withEnvironment(pebbleEnv)));
  }

  public <T extends AutoCloseable> T keep(T part) {
    parts.add(part);
    return part;
  }

  /** Every key the three services need, for a CA at {@code directory} trusted by {@code trust}. */
  public Map<String, String> settings(URI directory, Path trust) {
    Map<String, String> s = new HashMap<>();
    s.put("kafka.bootstrap.servers", kafka.bootstrapServers());
    s.put("registry.url", kafka.registryUrl().toString());
    s.put("ca.profiles", profile);
    s.put("ca." + profile + ".directory.url", directory.toString());
    s.put("ca." + profile + ".trust.pem", trust.toString());
    s.put("ca." + profile + ".terms.agreed", "true");
    s.put("ca." + profile + ".contact", "mailto:" + profile + "@example.com");
    s.put("acme.key.dir", run.resolve("keys").toString());
    s.put("challenge.http01.host", "127.0.0.1");
    s.put("challenge.http01.port", String.valueOf(httpPort));
    s.put("finalize.state.dir", run.resolve("streams").toString());
    s.put("finalize.output.dir", run.resolve("certificates").toString());
    return s;
  }

  public Map<String, String> settings() {
    return settings(pebble.directoryUrl(), pebble.trustPem());
  }

  /** The three services, started from {@code settings}, running until {@link #close}. */
  public record Services(
      OrderServiceApp orders, ChallengeServiceApp challenges, FinalizeServiceApp finalizer) {}

  /** Stops {@code services} (the broker, the registry and Pebble keep running). */
  public void stopServices(Services services) {
    for (AutoCloseable service :
        List.<AutoCloseable>of(services.orders(), services.challenges(), services.finalizer())) {
      stop(service);
    }
  }

  private void stop(AutoCloseable service) {
    parts.remove(service);
    try {
      service.close();
    } catch (Exception e) {
      throw new IllegalStateException("cannot stop a service: " + e, e);
    }
  }

  /** Starts the three services and waits (up to a minute) for the Streams application. */
  public Services startServices(Map<String, String> settings) throws InterruptedException {
    Settings s = Settings.of(settings);
    OrderServiceApp orders = keep(OrderServiceApp.start(s));
    ChallengeServiceApp challenges;
    FinalizeServiceApp finalize;
    try {
      challenges = keep(ChallengeServiceApp.start(s));
      try {
        finalize = keep(FinalizeServiceApp.start(s));
      } catch (RuntimeException e) {
        stop(challenges);
        throw e;
      }
    } catch (RuntimeException e) {
      // Nothing of a start that failed keeps running (a port, a consumer group, a CA session).
      stop(orders);
      throw e;
    }
    long readyBy = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!(finalize.ready() && orders.ready() && challenges.ready())
        && System.nanoTime() < readyBy) {
      Thread.sleep(20);
    }
    return new Services(orders, challenges, finalize);
  }

  /** Starts scheduler-service from {@code settings}, its state in the run folder. */
  public SchedulerServiceApp startScheduler(Map<String, String> settings) {
    Map<String, String> s = new HashMap<>(settings);
    s.putIfAbsent("scheduler.state.dir", run.resolve("scheduler-state").toString());
    return keep(SchedulerServiceApp.start(Settings.of(s)));
  }

  /** The CA profile name the local services use. */
  public String profile() {
    return profile;
  }

  /** The run folder. */
  public Path run() {
    return run;
  }

  /** The embedded broker and registry. */
  public EmbeddedStack kafka() {
    return kafka;
  }

  /** The current Pebble (a new one after {@link #restartPebble}). */
  public PebbleServer pebble() {
    return pebble;
  }

  /** The port Pebble's validator fetches HTTP-01 tokens from. */
  public int httpPort() {
    return httpPort;
  }

  @Override
  public void close() {
    for (int i = parts.size() - 1; i >= 0; i--) {
      try {
        parts.get(i).close();
      } catch (Exception e) {
        // best effort on the way out
      }
    }
    parts.clear();
  }

  /** Installs Debian's pebble when running as root; otherwise says how. */
  public static boolean ensurePebble(PrintWriter out) throws IOException, InterruptedException {
    if (PebbleServer.installed()) {
      return true;
    }
    boolean root = "root".equals(System.getProperty("user.name"));
    if (!root) {
      out.println(
          "This needs Pebble, the ACME test CA (Debian package 'pebble'); install it with: "
              + PebbleServer.INSTALL_HINT);
      out.flush();
      return false;
    }
    out.println("Installing Pebble (apt-get install -y pebble) ...");
    out.flush();
    for (List<String> cmd :
        List.of(
            List.of("apt-get", "update", "-qq"),
            List.of("apt-get", "install", "-y", "-qq", "pebble"))) {
      Process p = new ProcessBuilder(cmd).inheritIO().start();
      if (p.waitFor() != 0) {
        out.println("Installing Pebble failed; install it with: " + PebbleServer.INSTALL_HINT);
        return false;
      }
    }
    return PebbleServer.installed();
  }
}
