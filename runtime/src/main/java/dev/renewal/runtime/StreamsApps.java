package dev.renewal.runtime;

import dev.renewal.topics.DeadLetteringDeserializationHandler;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;

/** What every Kafka Streams application of the pipeline is given. */
public final class StreamsApps {
  private StreamsApps() {}

  /**
   * The properties of application {@code applicationId}: the Kafka client properties (a static
   * member's among them, {@link PipelineContext#groupMember}), {@code guarantee}, its state under
   * {@code stateDir}, commits every {@code commit}, internal topics with {@code replicationFactor},
   * one stream thread, and no task idling (no application of the pipeline depends on the order
   * between its input topics), and the processing exception handler enabled for global state too,
   * as Kafka Streams 5.0 will have it (the setting is deprecated for that reason; without it every
   * start logs a warning asking for it).
   */
  @SuppressWarnings("deprecation")
  public static Properties properties(
      Map<String, Object> kafka,
      short replicationFactor,
      String applicationId,
      Path stateDir,
      Duration commit,
      String guarantee) {
    Properties props = new Properties();
    props.putAll(kafka);
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toAbsolutePath().toString());
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, (int) commit.toMillis());
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) replicationFactor);
    props.putIfAbsent(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.putIfAbsent(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, -1L);
    props.putIfAbsent(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
    // The partition assignor reads a configuration of its own from the main consumer's.
    props.putIfAbsent(
        StreamsConfig.mainConsumerPrefix(
            StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG),
        true);
    return props;
  }

  /**
   * A builder whose topology takes its settings from {@code props} ({@code new StreamsBuilder()}
   * would read a default configuration of its own, and log the global-handler warning for it).
   */
  public static org.apache.kafka.streams.StreamsBuilder builder(Properties props) {
    return new org.apache.kafka.streams.StreamsBuilder(
        new org.apache.kafka.streams.TopologyConfig(new StreamsConfig(props)));
  }

  /**
   * A record the application cannot decode goes to {@code topic} with the reason, and the
   * application goes on ({@link DeadLetteringDeserializationHandler}).
   */
  public static void deadLetters(Properties props, String topic, String service) {
    props.put(
        StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        DeadLetteringDeserializationHandler.class);
    props.put(DeadLetteringDeserializationHandler.TOPIC, topic);
    props.put(DeadLetteringDeserializationHandler.SERVICE, service);
  }
}
