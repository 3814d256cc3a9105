package dev.renewal.finalize.topology;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.events.ReconciliationState;
import dev.renewal.registry.InMemorySchemaRegistryClient;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.topics.Topic;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Properties;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/** What the topology tests share: a driver, typed topics, the golden description. */
final class TopologyTests {
  private TopologyTests() {}

  /** A driver for {@code topology} with {@code guarantee}, its wall clock at 2026-11-27. */
  static TopologyTestDriver driver(Topology topology, String guarantee) {
    return driver(topology, guarantee, new Properties());
  }

  /** The same with {@code extra} properties. */
  static TopologyTestDriver driver(Topology topology, String guarantee, Properties extra) {
    Properties props = new Properties();
    props.putAll(extra);
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test-" + UUID.randomUUID());
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
    return new TopologyTestDriver(topology, props, Instant.parse("2026-11-27T00:00:00Z"));
  }

  /**
   * The reconciliation store, in memory and without a changelog, registered with {@code context}:
   * for a {@link Reconciler} driven by a {@code MockProcessorContext}.
   */
  static KeyValueStore<String, ReconciliationState> reconciliationStore(
      MockProcessorContext<String, SpecificRecord> context) {
    AvroSerdes serdes = new AvroSerdes(new InMemorySchemaRegistryClient(), true);
    KeyValueStore<String, ReconciliationState> store =
        Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore(ReconciliationTopology.STORE),
                Serdes.String(),
                serdes.value(ReconciliationState.class))
            .withLoggingDisabled()
            .build();
    store.init(context.getStateStoreContext(), store);
    context.addStateStore(store);
    return store;
  }

  static <V> TestInputTopic<String, V> input(TopologyTestDriver driver, Topic<String, V> topic) {
    return driver.createInputTopic(
        topic.name(), Serdes.String().serializer(), topic.valueSerde().serializer());
  }

  static <V> TestOutputTopic<String, V> output(TopologyTestDriver driver, Topic<String, V> topic) {
    return driver.createOutputTopic(
        topic.name(), Serdes.String().deserializer(), topic.valueSerde().deserializer());
  }

  /**
   * Checks {@code topology}'s description against {@code src/test/resources/<file>} (written when
   * missing); returns the description for further checks.
   */
  static String assertUnchanged(Topology topology, String file) throws IOException {
    String described = topology.describe().toString().trim();
    Path golden = Path.of("src/test/resources", file);
    if (!Files.exists(golden)) {
      Files.writeString(golden, described + "\n", StandardCharsets.UTF_8);
    }
    assertThat(described)
        .as(
            "renaming a node or store breaks a running application; update the golden file on purpose")
        .isEqualTo(Files.readString(golden, StandardCharsets.UTF_8).trim());
    return described;
  }
}
