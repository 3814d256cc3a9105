package dev.renewal.testkit.streams;

import dev.renewal.topics.Topic;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/** What the services' topology tests share: a driver, typed topics, the golden description. */
public final class TopologyTestKit {
  private TopologyTestKit() {}

  /** A driver for {@code topology} with {@code guarantee} and {@code extra}, its clock at start. */
  public static TopologyTestDriver driver(
      Topology topology, String guarantee, Properties extra, Instant start) {
    Properties props = new Properties();
    props.putAll(extra);
    props.putIfAbsent(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test-" + UUID.randomUUID());
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
    return new TopologyTestDriver(topology, props, start);
  }

  /**
   * A store {@code name} in memory and without a changelog, registered with {@code context}: for a
   * processor driven by a {@code MockProcessorContext} (a restart: a second context on the same
   * store).
   */
  public static <V> KeyValueStore<String, V> store(
      MockProcessorContext<?, ?> context, String name, Serde<V> values) {
    KeyValueStore<String, V> store =
        Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.String(), values)
            .withLoggingDisabled()
            .build();
    store.init(context.getStateStoreContext(), store);
    context.addStateStore(store);
    return store;
  }

  public static <V> TestInputTopic<String, V> input(
      TopologyTestDriver driver, Topic<String, V> topic) {
    return driver.createInputTopic(
        topic.name(), Serdes.String().serializer(), topic.valueSerde().serializer());
  }

  public static <V> TestOutputTopic<String, V> output(
      TopologyTestDriver driver, Topic<String, V> topic) {
    return driver.createOutputTopic(
        topic.name(), Serdes.String().deserializer(), topic.valueSerde().deserializer());
  }

  /**
   * Checks {@code topology}'s description against {@code src/test/resources/<file>} (written when
   * missing); returns the description for further checks.
   */
  public static String assertUnchanged(Topology topology, String file) throws IOException {
    String described = topology.describe().toString().trim();
    Path golden = Path.of("src/test/resources", file);
    if (!Files.exists(golden)) {
      Files.createDirectories(golden.getParent());
      Files.writeString(golden, described + "\n", StandardCharsets.UTF_8);
    }
    String expected = Files.readString(golden, StandardCharsets.UTF_8).trim();
    if (!described.equals(expected)) {
      throw new AssertionError(
          "renaming a node or store breaks a running application; update the golden file "
              + golden
              + " on purpose.\nexpected:\n"
              + expected
              + "\nbut was:\n"
              + described);
    }
    return described;
  }
}
