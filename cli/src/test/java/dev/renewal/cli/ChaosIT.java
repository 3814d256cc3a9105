package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.events.CertificateIssued;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.RequestState;
import dev.renewal.events.RequestStatus;
import dev.renewal.infra.kafka.EmbeddedKafka;
import dev.renewal.registry.RestSchemaRegistryClient;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.testkit.pebble.FaultyAcmeProxy;
import dev.renewal.testkit.pebble.PebbleServer;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.TopicReader;
import dev.renewal.topics.TopicSettings;
import dev.renewal.topics.Topics;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline as separate processes while they die: {@code renewal stack} (broker and registry)
 * and two instances of each service as JVMs of their own, a batch of requests, random SIGKILLs of
 * service instances (each restarted 1-3 s later with its instance id) and one SIGKILL of the broker
 * (restarted on the same folder). Then: every request issued exactly once, at most one finalize per
 * order and as many certificates at the CA as requests (counted at the proxy in front of Pebble),
 * no request with both a failure and a certificate, and the status view agrees.
 *
 * <p>One challenge-service instance serves HTTP-01 on the port Pebble's validator asks and is not
 * killed (a load balancer would front both in production); the other is.
 */
class ChaosIT {
  /** 60 in CI; {@code -Dchaos.requests=300 -Dchaos.kills=20} for the larger run of docs/. */
  private static final int REQUESTS = Integer.getInteger("chaos.requests", 60);

  private static final int KILLS = Integer.getInteger("chaos.kills", 6);

  @TempDir Path work;

  private final Map<String, Process> running = new LinkedHashMap<>();
  private final Random random = new Random(17);
  private Process stack;
  private int kafkaPort;
  private int registryPort;

  private Process startStack() throws Exception {
    Path log = work.resolve("stack-" + System.nanoTime() + ".log");
    Process p =
        CliProcess.start(
            log,
            "stack",
            "--work-dir",
            work.resolve("stack").toString(),
            "--kafka-port",
            String.valueOf(kafkaPort),
            "--registry-port",
            String.valueOf(registryPort));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (Files.exists(log) && Files.readString(log).contains("renewal stack is up")) {
        return p;
      }
      if (!p.isAlive()) {
        break;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("renewal stack did not come up:\n" + Files.readString(log));
  }

  private Path config(String instance, Map<String, String> extra, FaultyAcmeProxy proxy)
      throws IOException {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("kafka.bootstrap.servers", "127.0.0.1:" + kafkaPort);
    s.put("registry.url", "http://127.0.0.1:" + registryPort);
    s.put("instance.id", instance);
    s.put("instance.session.timeout", "10s");
    s.put("ca.profiles", "pebble");
    s.put("ca.pebble.directory.url", proxy.directoryUrl().toString());
    s.put("ca.pebble.trust.pem", proxy.trustPem().toString());
    s.put("ca.pebble.terms.agreed", "true");
    s.put("ca.pebble.max.in.flight", "2");
    s.put("acme.key.dir", work.resolve("keys").toString());
    s.put("order.metrics.port", "-1");
    s.put("challenge.metrics.port", "-1");
    s.put("finalize.metrics.port", "-1");
    s.put("finalize.state.dir", work.resolve("streams-" + instance).toString());
    s.put("finalize.output.dir", work.resolve("certificates").toString());
    s.putAll(extra);
    Path file = work.resolve(instance + ".properties");
    Files.writeString(
        file,
        s.entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining("\n")));
    return file;
  }

  private void start(String instance, String service, Path config) throws IOException {
    running.put(
        instance,
        CliProcess.start(work.resolve(instance + ".log"), service, "--config", config.toString()));
  }

  @Test
  void everyRequestIsIssuedOnceWhileServicesAndTheBrokerAreKilled() throws Exception {
    int[] ports = EmbeddedKafka.freePorts(4);
    kafkaPort = ports[0];
    registryPort = ports[1];
    int httpPort = ports[2];
    int otherHttpPort = ports[3];
    stack = startStack();
    try (PebbleServer pebble =
            PebbleServer.start(PebbleServer.Options.defaults(work.resolve("pebble"), httpPort));
        FaultyAcmeProxy proxy = FaultyAcmeProxy.start(pebble, work.resolve("proxy"))) {
      Map<String, String[]> instances = new LinkedHashMap<>();
      instances.put("order-a", new String[] {"order-service"});
      instances.put("order-b", new String[] {"order-service"});
      instances.put("challenge-a", new String[] {"challenge-service"});
      instances.put("challenge-b", new String[] {"challenge-service"});
      instances.put("finalize-a", new String[] {"finalize-service"});
      instances.put("finalize-b", new String[] {"finalize-service"});
      Map<String, Path> configs = new HashMap<>();
      for (var e : instances.entrySet()) {
        Map<String, String> extra = new HashMap<>();
        if (e.getKey().equals("challenge-a")) {
          extra.put("challenge.http01.host", "127.0.0.1");
          extra.put("challenge.http01.port", String.valueOf(httpPort));
        } else if (e.getKey().equals("challenge-b")) {
          extra.put("challenge.http01.host", "127.0.0.1");
          extra.put("challenge.http01.port", String.valueOf(otherHttpPort));
        }
        configs.put(e.getKey(), config(e.getKey(), extra, proxy));
        start(e.getKey(), e.getValue()[0], configs.get(e.getKey()));
      }

      Topics topics =
          Topics.create(
              new TopicSettings("", 3, (short) 1, 3_600_000),
              new AvroSerdes(
                  new RestSchemaRegistryClient(URI.create("http://127.0.0.1:" + registryPort)),
                  true));
      Map<String, Object> client = Map.of("bootstrap.servers", "127.0.0.1:" + kafkaPort);
      Set<String> ids = new HashSet<>();
      try (Publisher publisher = Publisher.create(client, "chaos")) {
        for (int i = 0; i < REQUESTS; i++) {
          String id = UUID.randomUUID().toString();
          ids.add(id);
          publisher
              .send(
                  topics.renewalRequested,
                  id,
                  RenewalRequested.newBuilder()
                      .setEventId(UUID.randomUUID().toString())
                      .setRequestId(id)
                      .setOccurredAt(Instant.now())
                      .setCertificateName("chaos-" + i)
                      .setDnsNames(List.of("chaos-" + i + ".example"))
                      .setCaProfile("pebble")
                      .build())
              .get();
        }
      }

      Instant published = Instant.now();
      TopicReader reader = new TopicReader(client);
      // Crashes hit running services, as in production: the kills start once the pipeline issues
      // (seven JVMs starting on two cores take 30-40 s; killing one that is still starting
      // measures the start-up, not the recovery).
      Instant warm = null;
      long warmDeadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
      while (warm == null && System.nanoTime() < warmDeadline) {
        warm =
            reader.readAll(topics.certificateIssued, Duration.ofSeconds(10)).stream()
                .map(r -> r.value().getOccurredAt())
                .min(Instant::compareTo)
                .orElse(null);
        Thread.sleep(500);
      }
      assertThat(warm).as("a first certificate before the kills" + logs()).isNotNull();
      List<Restart> restarts = new ArrayList<>();
      List<String> killable =
          List.of("order-a", "order-b", "challenge-b", "finalize-a", "finalize-b");
      int brokerKillAt = KILLS / 2;
      List<String> events = new ArrayList<>();
      Instant firstKill = null;
      Instant brokerBack = null;
      for (int k = 0; k < KILLS; k++) {
        Thread.sleep(1500 + random.nextInt(2000));
        if (k == brokerKillAt) {
          stack.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
          events.add(Instant.now() + " broker killed");
          Thread.sleep(1000 + random.nextInt(2000));
          stack = startStack();
          brokerBack = Instant.now();
          events.add(brokerBack + " broker back");
        }
        String victim = killable.get(random.nextInt(killable.size()));
        assertThat(running.get(victim).isAlive()).as(victim + " alive before its kill").isTrue();
        running.get(victim).destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        if (firstKill == null) {
          firstKill = Instant.now();
        }
        events.add(Instant.now() + " killed " + victim);
        Thread.sleep(1000 + random.nextInt(2000));
        Path log = work.resolve(victim + ".log");
        restarts.add(new Restart(victim, Instant.now(), Files.size(log), log));
        start(victim, instances.get(victim)[0], configs.get(victim));
      }

      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5 + REQUESTS / 60);
      List<ConsumerRecord<String, CertificateIssued>> issued = List.of();
      while (System.nanoTime() < deadline) {
        issued = reader.readAll(topics.certificateIssued, Duration.ofSeconds(30));
        if (issued.stream().map(ConsumerRecord::key).collect(Collectors.toSet()).size()
            >= REQUESTS) {
          break;
        }
        Thread.sleep(1000);
      }
      Set<String> issuedIds = issued.stream().map(ConsumerRecord::key).collect(Collectors.toSet());
      Instant killed = firstKill == null ? published : firstKill;
      Instant back = brokerBack == null ? published : brokerBack;
      Instant last =
          issued.stream().map(r -> r.value().getOccurredAt()).max(Instant::compareTo).orElseThrow();
      Instant firstAfterBroker =
          issued.stream()
              .map(r -> r.value().getOccurredAt())
              .filter(t -> t.isAfter(back))
              .min(Instant::compareTo)
              .orElse(last);
      System.out.printf(
          "chaos: %d requests, %d kills and %d broker restart; issued after the first kill %d,"
              + " after the broker's return %d; the first %d ms and the last %d ms after the"
              + " broker's return; %d announcements for %d certificates%n%s%n",
          REQUESTS,
          KILLS,
          brokerBack == null ? 0 : 1,
          issued.stream().filter(r -> r.value().getOccurredAt().isAfter(killed)).count(),
          issued.stream().filter(r -> r.value().getOccurredAt().isAfter(back)).count(),
          Duration.between(back, firstAfterBroker).toMillis(),
          Duration.between(back, last).toMillis(),
          issued.size(),
          issuedIds.size(),
          String.join("\n", events));
      // Certificates per 10 s since the requests were published, to see progress through the kills.
      java.util.TreeMap<Long, Long> timeline = new java.util.TreeMap<>();
      for (var r : issued) {
        timeline.merge(
            Duration.between(published, r.value().getOccurredAt()).toSeconds() / 10 * 10,
            1L,
            Long::sum);
      }
      StringBuilder line = new StringBuilder("issued per 10 s since publishing:");
      timeline.forEach((t, n) -> line.append(' ').append(t).append("s:").append(n));
      System.out.println(line);
      System.out.println(
          "published at " + published + ", first certificate " + warm + " (kills from then on)");
      System.out.println(resumes(restarts));
      assertThat(issuedIds).as(logs()).isEqualTo(ids);
      // One certificate per request: an announcement repeated after a broker restart carries the
      // same serial (at least once, docs/design.md).
      Map<String, Set<String>> serials = new HashMap<>();
      for (var r : issued) {
        serials.computeIfAbsent(r.key(), x -> new HashSet<>()).add(r.value().getSerialNumber());
      }
      assertThat(serials.values()).allSatisfy(s -> assertThat(s).hasSize(1));
      assertThat(proxy.finalizes()).as("certificates at the CA").isEqualTo(REQUESTS);
      assertThat(proxy.finalizesByOrder().values()).allSatisfy(n -> assertThat(n).isEqualTo(1));
      List<RenewalFailed> failed =
          reader.readAll(topics.renewalFailed, Duration.ofSeconds(30)).stream()
              .map(ConsumerRecord::value)
              .toList();
      assertThat(failed).as("no request both failed and issued").isEmpty();

      Map<String, RequestStatus> view = new HashMap<>();
      long viewDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      do {
        for (var r : reader.readAll(topics.status, Duration.ofSeconds(30))) {
          view.put(r.key(), r.value());
        }
        if (ids.stream()
            .allMatch(
                id -> view.get(id) != null && view.get(id).getState() == RequestState.ISSUED)) {
          break;
        }
        Thread.sleep(500);
      } while (System.nanoTime() < viewDeadline);
      assertThat(ids)
          .allSatisfy(
              id -> assertThat(view.get(id).getState()).as(id).isEqualTo(RequestState.ISSUED));
    } finally {
      running.values().forEach(Process::destroyForcibly);
      if (stack != null) {
        stack.destroyForcibly();
      }
      keepLogs();
    }
  }

  /** With {@code -Dchaos.logs=DIR}, every process's log is copied there to be read after. */
  private void keepLogs() throws IOException {
    String to = System.getProperty("chaos.logs");
    if (to == null || to.isBlank()) {
      return;
    }
    Path dir = Files.createDirectories(Path.of(to));
    try (var logs = Files.list(work)) {
      for (Path log : logs.filter(p -> p.toString().endsWith(".log")).toList()) {
        Files.copy(
            log, dir.resolve(log.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  /** A killed instance started again: when, and where its log stood then. */
  private record Restart(String instance, Instant at, long logOffset, Path log) {}

  /**
   * How long each restarted instance took to take partitions back: from its start to the first
   * "partitions assigned" line its consumer loop logged (log times are UTC, as the JVMs here run in
   * UTC). A process killed again before that line has no figure.
   */
  private static String resumes(List<Restart> restarts) throws IOException {
    StringBuilder b = new StringBuilder("partitions back after a restart (s):");
    List<Double> all = new ArrayList<>();
    for (int i = 0; i < restarts.size(); i++) {
      Restart r = restarts.get(i);
      byte[] log = Files.readAllBytes(r.log());
      long end = log.length;
      for (Restart next : restarts.subList(i + 1, restarts.size())) {
        if (next.instance().equals(r.instance())) {
          end = next.logOffset();
          break;
        }
      }
      String own =
          new String(
              log,
              (int) r.logOffset(),
              (int) (end - r.logOffset()),
              java.nio.charset.StandardCharsets.UTF_8);
      java.util.Optional<java.time.LocalTime> assigned =
          own.lines()
              .filter(l -> l.contains("partitions assigned") && l.length() > 12)
              .map(l -> java.time.LocalTime.parse(l.substring(0, 12)))
              .findFirst();
      java.time.LocalTime started = java.time.LocalTime.ofInstant(r.at(), java.time.ZoneOffset.UTC);
      String figure =
          assigned
              .map(
                  t -> {
                    double sec = Duration.between(started, t).toMillis() / 1000.0;
                    all.add(sec);
                    return String.format(java.util.Locale.ROOT, "%.1f", sec);
                  })
              .orElse("killed-before");
      b.append(' ').append(r.instance()).append('=').append(figure);
    }
    all.sort(Double::compare);
    if (!all.isEmpty()) {
      b.append(
          String.format(
              java.util.Locale.ROOT,
              "%nmedian %.1f s, max %.1f s, of %d restarts that lived to take partitions",
              all.get(all.size() / 2),
              all.get(all.size() - 1),
              all.size()));
    }
    return b.toString();
  }

  private String logs() throws IOException {
    StringBuilder b = new StringBuilder();
    for (String instance : running.keySet()) {
      Path log = work.resolve(instance + ".log");
      if (Files.exists(log)) {
        List<String> lines = Files.readAllLines(log);
        b.append("== ").append(instance).append('\n');
        lines
            .subList(Math.max(0, lines.size() - 30), lines.size())
            .forEach(l -> b.append(l).append('\n'));
      }
    }
    return b.toString();
  }
}
