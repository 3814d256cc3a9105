package dev.renewal.scheduler;

import dev.renewal.config.ConfigException;
import dev.renewal.config.Settings;
import dev.renewal.metrics.MetricsEndpoint;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.runtime.PipelineContext;
import dev.renewal.runtime.StreamsApps;
import dev.renewal.scheduler.domain.Inventory;
import dev.renewal.scheduler.domain.RenewalTime.Before;
import dev.renewal.scheduler.topology.SchedulerMetrics;
import dev.renewal.scheduler.topology.SchedulerTopology;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
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
 * <p>Keys: those of {@link PipelineContext}, {@code scheduler.*} ({@link #DEFAULTS}), and {@code
 * ca.<profile>.renewal.before} for each profile of {@code ca.profiles} (a duration or a percentage
 * of the lifetime; none: a third left, a half under 10 days).
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
          Map.entry("scheduler.metrics.port", "0"));

  private final KafkaStreams streams;
  private final ServiceMetrics metrics;
  private final MetricsEndpoint endpoint;

  private SchedulerServiceApp(KafkaStreams streams, ServiceMetrics metrics, MetricsEndpoint e) {
    this.streams = streams;
    this.metrics = metrics;
    this.endpoint = e;
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
    Map<String, Before> rules = new HashMap<>();
    for (String profile : dev.renewal.acme.CaProfiles.listed(settings)) {
      String key = "ca." + profile + ".renewal.before";
      r.optional(key)
          .ifPresent(
              text -> {
                try {
                  rules.put(profile, Before.parse(text));
                } catch (IllegalArgumentException e) {
                  r.problem(key, text, e.getMessage());
                }
              });
    }
    problems.addAll(r.problems());
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
    Inventory.Rules byProfile = profile -> Optional.ofNullable(rules.get(profile));
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
    MetricsEndpoint endpoint = MetricsEndpoint.startUnlessDisabled(metrics, metricsAt);
    return new SchedulerServiceApp(streams, metrics, endpoint);
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
    streams.close(Duration.ofSeconds(10));
    if (endpoint != null) {
      endpoint.close();
    }
  }
}
