package dev.renewal.runtime;

import dev.renewal.config.ConfigException;
import dev.renewal.config.Settings;
import dev.renewal.registry.RestSchemaRegistryClient;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.serde.AvroTrust;
import dev.renewal.topics.TopicSettings;
import dev.renewal.topics.Topics;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;

/**
 * The Kafka side of every process of the pipeline (the services and the operator's commands): the
 * Kafka client properties, the registry and serdes, the topic catalogue. Reads and validates every
 * shared key, reporting all problems at once.
 *
 * <p>Keys: {@code kafka.*} (at least {@code kafka.bootstrap.servers}), {@code registry.url}, {@code
 * registry.basic.auth.user.info}, {@code topics.*}, {@code instance.id}, {@code
 * instance.session.timeout}.
 */
public record PipelineContext(
    Settings settings,
    Map<String, Object> kafka,
    AvroSerdes serdes,
    Topics topics,
    Optional<String> instanceId,
    Duration sessionTimeout) {

  /** Defaults of the shared keys. */
  public static final Map<String, String> DEFAULTS =
      Map.of("registry.url", "http://127.0.0.1:8081", "instance.session.timeout", "15s");

  /**
   * The client properties of the consumer-group member {@code member} of this process (e.g. {@code
   * order-service}). With {@code instance.id} set it is a static member ({@code group.instance.id =
   * <instance.id>.<member>}, KIP-345) with {@code instance.session.timeout}: restarted with the
   * same id, it takes its partitions back at once instead of waiting for its old self's session to
   * time out (45 s by default), and a rolling restart moves no partition. Each running process
   * needs an id of its own (two with the same id fence each other); keep it across restarts (a host
   * name, a StatefulSet pod name). Without it, members are dynamic, as before.
   */
  public Map<String, Object> groupMember(String member) {
    if (instanceId.isEmpty()) {
      return kafka;
    }
    Map<String, Object> props = new HashMap<>(kafka);
    props.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId.get() + "." + member);
    props.putIfAbsent(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) sessionTimeout.toMillis());
    return props;
  }

  public static PipelineContext load(Settings raw) {
    List<String> problems = new ArrayList<>();
    PipelineContext context = load(raw, problems);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return context;
  }

  /**
   * The same, adding what is wrong to {@code problems} instead of throwing, so that a caller with
   * keys of its own reports every problem at once; null when anything is wrong.
   */
  public static PipelineContext load(Settings raw, List<String> problems) {
    AvroTrust.trustEventPackages();
    Settings settings = raw.withDefaults(DEFAULTS);
    int before = problems.size();
    Settings.Reader r = settings.reader();
    URI registry = r.uri("registry.url");
    Optional<String> instanceId = r.optional("instance.id");
    Duration sessionTimeout =
        r.duration("instance.session.timeout", Duration.ofSeconds(6), Duration.ofMinutes(30));
    Map<String, Object> kafka = settings.withPrefix("kafka.");
    if (!kafka.containsKey(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)) {
      problems.add(
          "kafka.bootstrap.servers is required (set it in the file or as"
              + " RENEWAL_KAFKA_BOOTSTRAP_SERVERS)");
    }
    problems.addAll(r.problems());
    TopicSettings topicSettings = collect(problems, () -> TopicSettings.from(settings));
    if (problems.size() > before) {
      return null;
    }
    AvroSerdes serdes =
        new AvroSerdes(
            new RestSchemaRegistryClient(
                registry,
                Duration.ofSeconds(10),
                5,
                Duration.ofMillis(200),
                settings.raw("registry.basic.auth.user.info").orElse(null)),
            true);
    return new PipelineContext(
        settings,
        kafka,
        serdes,
        Topics.create(topicSettings, serdes),
        instanceId.filter(id -> !id.isBlank()),
        sessionTimeout);
  }

  /** Runs {@code read}, adding its problems to {@code problems} (null then). */
  public static <T> T collect(List<String> problems, Supplier<T> read) {
    try {
      return read.get();
    } catch (ConfigException e) {
      problems.addAll(e.problems());
      return null;
    }
  }
}
