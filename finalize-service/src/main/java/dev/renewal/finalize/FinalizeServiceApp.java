package dev.renewal.finalize;

import dev.renewal.acme.CaCalls;
import dev.renewal.acme.CaWorkers;
import dev.renewal.acme.PollPolicy;
import dev.renewal.acme.ServiceContext;
import dev.renewal.config.Settings;
import dev.renewal.events.FinalizeRecord;
import dev.renewal.events.OrderReady;
import dev.renewal.events.RevocationRequested;
import dev.renewal.finalize.acme.Acme4jFinalizeGateway;
import dev.renewal.finalize.handler.CertificateFiles;
import dev.renewal.finalize.handler.CertificateKeys;
import dev.renewal.finalize.handler.FinalizeHandler;
import dev.renewal.finalize.handler.RevocationHandler;
import dev.renewal.finalize.topology.ReconciliationTopology;
import dev.renewal.finalize.topology.StatusViewTopology;
import dev.renewal.metrics.MetricsEndpoint;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.runtime.StreamsApps;
import dev.renewal.topics.CompactedStore;
import dev.renewal.topics.ConsumerLoop;
import dev.renewal.topics.Publisher;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;

/**
 * finalize-service: wiring only. Runs the reconciliation (Kafka Streams, exactly-once v2), the
 * {@code renewal.status} view (Kafka Streams, at-least-once, application id {@code
 * <finalize.application.id>-status}) and the finalization worker that consumes the reconciliation's
 * {@code acme.order.ready} output.
 */
public final class FinalizeServiceApp implements AutoCloseable {
  public static final String SERVICE = "finalize-service";

  /** Defaults of finalize-service's own keys. */
  public static final Map<String, String> DEFAULTS =
      Map.ofEntries(
          Map.entry("finalize.application.id", "renewal-finalize-service"),
          Map.entry("finalize.metrics.host", "127.0.0.1"),
          Map.entry("finalize.metrics.port", "0"),
          Map.entry("finalize.group.id", "renewal-finalize-worker"),
          Map.entry("finalize.revocation.group.id", "renewal-finalize-revocations"),
          Map.entry("finalize.state.dir", "state"),
          Map.entry("finalize.grace", "2m"),
          Map.entry("finalize.retention", "7d"),
          Map.entry(
              "finalize.commit.interval",
              ReconciliationTopology.DEFAULT_COMMIT_INTERVAL.toMillis() + "ms"),
          Map.entry("finalize.status.commit.interval", "1s"),
          Map.entry("finalize.output.dir", "certificates"),
          Map.entry("finalize.max.pending", "10000"),
          Map.entry("finalize.worker.enabled", "true"),
          Map.entry("finalize.poll.initial", "20ms"),
          Map.entry("finalize.poll.max", "10s"));

  private final KafkaStreams streams;
  private final KafkaStreams status;
  private final ConsumerLoop<OrderReady> worker;
  private final ConsumerLoop<RevocationRequested> revocations;
  private final java.util.concurrent.ExecutorService lookups;
  private final CaWorkers caWorkers;
  private final Publisher publisher;
  private final ServiceMetrics metrics;
  private final MetricsEndpoint endpoint;

  private FinalizeServiceApp(
      KafkaStreams streams,
      KafkaStreams status,
      ConsumerLoop<OrderReady> worker,
      ConsumerLoop<RevocationRequested> revocations,
      java.util.concurrent.ExecutorService lookups,
      CaWorkers caWorkers,
      Publisher publisher,
      ServiceMetrics metrics,
      MetricsEndpoint endpoint) {
    this.streams = streams;
    this.status = status;
    this.worker = worker;
    this.revocations = revocations;
    this.lookups = lookups;
    this.caWorkers = caWorkers;
    this.publisher = publisher;
    this.metrics = metrics;
    this.endpoint = endpoint;
  }

  public ServiceMetrics metrics() {
    return metrics;
  }

  /** Where the metrics are served, or empty when disabled. */
  public java.util.Optional<java.net.URI> metricsUri() {
    return java.util.Optional.ofNullable(endpoint).map(MetricsEndpoint::uri);
  }

  public static FinalizeServiceApp start(Settings raw) {
    ServiceContext ctx = ServiceContext.load(raw);
    Settings settings = ctx.settings().withDefaults(DEFAULTS);
    Settings.Reader r = settings.reader();
    String applicationId = r.string("finalize.application.id");
    String groupId = r.string("finalize.group.id");
    String revocationGroupId = r.string("finalize.revocation.group.id");
    // One group per consumer: a Streams application's id is its group's, and two members of
    // different kinds in one group stop both (InconsistentGroupProtocolException).
    java.util.Set<String> groups = new java.util.HashSet<>();
    for (String[] g :
        new String[][] {
          {"finalize.application.id", applicationId},
          {"finalize.application.id", applicationId + "-status"},
          {"finalize.group.id", groupId},
          {"finalize.revocation.group.id", revocationGroupId}
        }) {
      if (!groups.add(g[1])) {
        r.problem(g[0], g[1], "is the consumer group of another part of finalize-service");
      }
    }
    Path stateDir = r.path("finalize.state.dir");
    Duration grace = r.duration("finalize.grace", Duration.ofSeconds(1), Duration.ofDays(1));
    Duration retention =
        r.duration("finalize.retention", Duration.ofMinutes(10), Duration.ofDays(3650));
    if (retention.compareTo(grace.multipliedBy(2)) < 0) {
      r.problem(
          "finalize.retention",
          r.string("finalize.retention"),
          "must be at least twice finalize.grace (" + grace + "): a state outlives its waits");
    }
    Duration commit =
        r.duration("finalize.commit.interval", Duration.ofMillis(10), Duration.ofMinutes(1));
    Duration statusCommit =
        r.duration(
            "finalize.status.commit.interval", Duration.ofMillis(10), Duration.ofMinutes(10));
    Path output = r.path("finalize.output.dir");
    Path keyDir =
        r.optional("finalize.key.dir")
            .map(Path::of)
            .orElse(r.path("acme.key.dir").resolve("certificates"));
    int maxPending = r.integer("finalize.max.pending", 1, 1_000_000);
    boolean workerEnabled = r.bool("finalize.worker.enabled");
    PollPolicy poll =
        new PollPolicy(
            r.duration("finalize.poll.initial", Duration.ofMillis(1), Duration.ofMinutes(1)),
            r.duration("finalize.poll.max", Duration.ofMillis(1), Duration.ofHours(1)));
    MetricsEndpoint.Address metricsAt = MetricsEndpoint.Address.read(r, "finalize");
    r.done();
    ServiceMetrics metrics = new ServiceMetrics(SERVICE);

    Properties props =
        StreamsApps.properties(
            ctx.groupMember(SERVICE + "-reconciliation"),
            ctx.topics().replicationFactor(),
            applicationId,
            stateDir,
            commit,
            StreamsConfig.EXACTLY_ONCE_V2);
    deadLetters(props, ctx.topics().streamsDlq.name());
    KafkaStreams streams =
        new KafkaStreams(
            ReconciliationTopology.build(
                StreamsApps.builder(props),
                ctx.topics(),
                ctx.serdes(),
                grace,
                Duration.ofSeconds(1),
                retention,
                metrics,
                commit),
            props);
    streams.start();
    Properties viewProps =
        statusProps(
            ctx.groupMember(SERVICE + "-status"),
            ctx.topics().replicationFactor(),
            applicationId + "-status",
            stateDir,
            statusCommit);
    deadLetters(viewProps, ctx.topics().streamsDlq.name());
    KafkaStreams status =
        new KafkaStreams(
            StatusViewTopology.build(StreamsApps.builder(viewProps), ctx.topics()), viewProps);
    status.start();

    CaWorkers caWorkers = CaWorkers.create(ctx.profiles(), SERVICE);
    Publisher publisher = Publisher.create(ctx.kafka(), SERVICE);
    CompactedStore<FinalizeRecord> records =
        new CompactedStore<>(ctx.topics().finalizeRecords, publisher, ctx.kafka());
    Acme4jFinalizeGateway gateway = new Acme4jFinalizeGateway(ctx.sessions(), ctx.accounts());
    CertificateKeys keys = new CertificateKeys(keyDir);
    FinalizeHandler handler =
        new FinalizeHandler(
            ctx.profiles(),
            new CaCalls(caWorkers.byProfile(), publisher, ctx.topics(), Clock.systemUTC(), metrics),
            gateway,
            records,
            keys,
            new CertificateFiles(output),
            publisher,
            ctx.topics(),
            Clock.systemUTC(),
            caWorkers.scheduler(),
            poll,
            metrics);
    ConsumerLoop<OrderReady> worker =
        new ConsumerLoop<>(
            SERVICE,
            ctx.groupMember(SERVICE + "-worker"),
            groupId,
            ctx.topics().orderReady,
            ctx.topics().orderReadyDlq.name(),
            publisher,
            maxPending,
            new ConsumerLoop.Callbacks<>(
                handler::handle,
                partitions -> handler.resume(records.load(partitions)),
                partitions -> {
                  handler.cancel(partitions);
                  publisher.flush();
                  records.unload(partitions);
                },
                () -> metrics.count("records.dead.lettered")));
    // Revocations: a loop of their own, reading (never writing) the finalization records of the
    // partitions it owns, co-partitioned by request id (docs/finalize-service.md).
    CompactedStore<FinalizeRecord> issuedRecords =
        new CompactedStore<>(ctx.topics().finalizeRecords, publisher, ctx.kafka());
    java.util.concurrent.ExecutorService lookups =
        java.util.concurrent.Executors.newSingleThreadExecutor(
            runnable -> {
              Thread t = new Thread(runnable, SERVICE + "-revocation-lookups");
              t.setDaemon(true);
              return t;
            });
    RevocationHandler revoker =
        new RevocationHandler(
            ctx.profiles(),
            new CaCalls(caWorkers.byProfile(), publisher, ctx.topics(), Clock.systemUTC(), metrics),
            gateway,
            RevocationHandler.Lookup.of(issuedRecords),
            keys,
            publisher,
            ctx.topics(),
            Clock.systemUTC(),
            lookups,
            metrics);
    ConsumerLoop<RevocationRequested> revocations =
        new ConsumerLoop<>(
            SERVICE,
            ctx.groupMember(SERVICE + "-revocations"),
            revocationGroupId,
            ctx.topics().revocationRequested,
            ctx.topics().revocationRequestedDlq.name(),
            publisher,
            maxPending,
            new ConsumerLoop.Callbacks<>(
                revoker::handle,
                issuedRecords::load,
                partitions -> {
                  publisher.flush();
                  issuedRecords.unload(partitions);
                },
                () -> metrics.count("records.dead.lettered")));
    MetricsEndpoint endpoint = MetricsEndpoint.startUnlessDisabled(metrics, metricsAt);
    if (workerEnabled) {
      worker.start();
      revocations.start();
    }
    return new FinalizeServiceApp(
        streams, status, worker, revocations, lookups, caWorkers, publisher, metrics, endpoint);
  }

  /**
   * The status view's Streams properties: at-least-once (nothing acts on the view, and {@link
   * StatusViewTopology} gives the same status when an event is applied twice), but reading only
   * committed records, since two of its inputs are the reconciliation's transactional output. It is
   * fetched in batches: a fetch waits up to half a commit interval for 64 KiB of new events.
   */
  static Properties statusProps(
      Map<String, Object> kafka,
      short replicationFactor,
      String applicationId,
      Path stateDir,
      Duration commit) {
    Properties props =
        StreamsApps.properties(
            kafka, replicationFactor, applicationId, stateDir, commit, StreamsConfig.AT_LEAST_ONCE);
    props.put(
        StreamsConfig.consumerPrefix(ConsumerConfig.ISOLATION_LEVEL_CONFIG), "read_committed");
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MIN_BYTES_CONFIG), 64 * 1024);
    props.put(
        StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG),
        (int) Math.max(1, Math.min(500, commit.toMillis() / 2)));
    return props;
  }

  /**
   * A record either application cannot decode goes to {@code topic} with the reason, and the
   * application goes on ({@link StreamsApps#deadLetters}).
   */
  public static void deadLetters(Properties props, String topic) {
    StreamsApps.deadLetters(props, topic, SERVICE);
  }

  public boolean ready() {
    return streams.state() == KafkaStreams.State.RUNNING
        && status.state() == KafkaStreams.State.RUNNING;
  }

  @Override
  public void close() {
    worker.close();
    revocations.close();
    lookups.shutdownNow();
    streams.close(Duration.ofSeconds(10));
    status.close(Duration.ofSeconds(10));
    // The producer closes before the CA workers: CA work still in flight when they stop can no
    // longer announce anything, so a shutdown never turns it into a RenewalFailed; its input is
    // not committed and is resumed after the restart.
    publisher.close();
    caWorkers.close();
    if (endpoint != null) {
      endpoint.close();
    }
  }
}
