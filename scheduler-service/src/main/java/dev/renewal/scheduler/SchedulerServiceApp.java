package dev.renewal.scheduler;

import dev.renewal.acme.AcmeSessions;
import dev.renewal.acme.CaCalls;
import dev.renewal.acme.CaProfiles;
import dev.renewal.acme.CaWorkers;
import dev.renewal.config.ConfigException;
import dev.renewal.config.Settings;
import dev.renewal.metrics.MetricsEndpoint;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.runtime.PipelineContext;
import dev.renewal.runtime.StreamsApps;
import dev.renewal.scheduler.ari.Acme4jAriGateway;
import dev.renewal.scheduler.ari.RenewalInfoFetcher;
import dev.renewal.scheduler.domain.Inventory;
import dev.renewal.scheduler.domain.RenewalPolicy;
import dev.renewal.scheduler.topology.SchedulerMetrics;
import dev.renewal.scheduler.topology.SchedulerTopology;
import dev.renewal.topics.Publisher;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;

/**
 * scheduler-service: wiring only. Runs the inventory and the schedule ({@link SchedulerTopology},
 * Kafka Streams, exactly-once v2). Scaled like the other services: instances of one application id
 * share the partitions; {@code instance.id} makes each a static member.
 *
 * <p>Beside it, unless {@code scheduler.ari.enabled=false}, the {@link RenewalInfoFetcher} asks
 * each certificate's CA for its renewal window (RFC 9773): it needs the CA profiles ({@code
 * ca.<profile>.directory.url} ...) as the other services do.
 *
 * <p>Keys: those of {@link PipelineContext}, {@code scheduler.*} ({@link #DEFAULTS}), and each
 * profile's renewal policy ({@link Policies}: {@code ca.<profile>.renewal.*}, {@code
 * ca.<profile>.fallback*}).
 */
public final class SchedulerServiceApp implements AutoCloseable {
  public static final String SERVICE = "scheduler-service";

  /** Defaults of scheduler-service's own keys. */
  public static final Map<String, String> DEFAULTS =
      Map.ofEntries(
          Map.entry("scheduler.application.id", "renewal-scheduler-service"),
          Map.entry("scheduler.state.dir", "state"),
          Map.entry("scheduler.commit.interval", "100ms"),
          Map.entry("scheduler.punctuate.interval", "1s"),
          Map.entry("scheduler.metrics.host", "127.0.0.1"),
          Map.entry("scheduler.metrics.port", "0"),
          Map.entry("scheduler.ari.enabled", "true"));

  private final KafkaStreams streams;
  private final ServiceMetrics metrics;
  private final MetricsEndpoint endpoint;
  private final List<AutoCloseable> ari;

  private SchedulerServiceApp(
      KafkaStreams streams, ServiceMetrics metrics, MetricsEndpoint e, List<AutoCloseable> ari) {
    this.streams = streams;
    this.metrics = metrics;
    this.endpoint = e;
    this.ari = ari;
  }

  public static SchedulerServiceApp start(Settings raw) {
    List<String> problems = new ArrayList<>();
    Settings settings = raw.withDefaults(DEFAULTS);
    PipelineContext ctx = PipelineContext.load(settings, problems);
    Settings.Reader r = settings.reader();
    String applicationId = r.string("scheduler.application.id");
    Path stateDir = r.path("scheduler.state.dir");
    Duration commit =
        r.duration("scheduler.commit.interval", Duration.ofMillis(10), Duration.ofMinutes(1));
    Duration punctuate =
        r.duration("scheduler.punctuate.interval", Duration.ofMillis(100), Duration.ofMinutes(10));
    MetricsEndpoint.Address metricsAt = MetricsEndpoint.Address.read(r, "scheduler");
    boolean ariEnabled = r.bool("scheduler.ari.enabled");
    String ariGroup = r.optional("scheduler.ari.group.id").orElse(applicationId + "-renewal-info");
    problems.addAll(r.problems());
    CaProfiles profiles = null;
    if (ariEnabled) {
      profiles = PipelineContext.collect(problems, () -> CaProfiles.from(settings));
    }
    Map<String, RenewalPolicy> policies = Map.of();
    try {
      policies = Policies.read(settings, dev.renewal.acme.CaProfiles.listed(settings));
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    ServiceMetrics metrics = new ServiceMetrics(SERVICE);
    Properties props =
        StreamsApps.properties(
            ctx.groupMember(SERVICE),
            ctx.topics().replicationFactor(),
            applicationId,
            stateDir,
            commit,
            StreamsConfig.EXACTLY_ONCE_V2);
    StreamsApps.deadLetters(props, ctx.topics().streamsDlq.name(), SERVICE);
    Map<String, RenewalPolicy> byName = policies;
    Inventory.Rules byProfile = profile -> byName.getOrDefault(profile, RenewalPolicy.DEFAULT);
    KafkaStreams streams =
        new KafkaStreams(
            SchedulerTopology.build(
                StreamsApps.builder(props),
                ctx.topics(),
                ctx.serdes(),
                byProfile,
                punctuate,
                new SchedulerMetrics(metrics)),
            props);
    streams.start();
    List<AutoCloseable> ari = new ArrayList<>();
    if (ariEnabled) {
      // Closed in this order: the fetcher, its producer, the CA workers.
      CaWorkers workers = CaWorkers.create(profiles, SERVICE);
      Publisher publisher = Publisher.create(ctx.kafka(), SERVICE + "-renewal-info");
      RenewalInfoFetcher fetcher =
          new RenewalInfoFetcher(
              ctx.kafka(),
              ariGroup,
              ctx.topics(),
              profiles,
              new CaCalls(workers.byProfile(), publisher, ctx.topics(), Clock.systemUTC(), metrics),
              new Acme4jAriGateway(new AcmeSessions()),
              publisher,
              Clock.systemUTC(),
              metrics);
      ari.addAll(List.of(fetcher.start(), publisher, workers));
    }
    MetricsEndpoint endpoint = MetricsEndpoint.startUnlessDisabled(metrics, metricsAt);
    return new SchedulerServiceApp(streams, metrics, endpoint, ari);
  }

  public ServiceMetrics metrics() {
    return metrics;
  }

  /** Where the metrics are served, or empty when disabled. */
  public Optional<java.net.URI> metricsUri() {
    return Optional.ofNullable(endpoint).map(MetricsEndpoint::uri);
  }

  public boolean ready() {
    return streams.state() == KafkaStreams.State.RUNNING;
  }

  @Override
  public void close() {
    for (AutoCloseable c : ari) {
      try {
        c.close();
      } catch (Exception e) {
        org.slf4j.LoggerFactory.getLogger(SchedulerServiceApp.class)
            .warn("closing the renewal information fetcher: {}", e.toString());
      }
    }
    streams.close(Duration.ofSeconds(10));
    if (endpoint != null) {
      endpoint.close();
    }
  }
}
