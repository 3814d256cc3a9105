package dev.renewal.finalize.topology;

import dev.renewal.events.ReconciliationState;
import dev.renewal.registry.InMemorySchemaRegistryClient;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.testkit.streams.TopologyTestKit;
import dev.renewal.topics.Topic;
import java.io.IOException;
import java.time.Instant;
import java.util.Properties;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;

/** What the topology tests share: a driver, typed topics, the golden description. */
final class TopologyTests {
  private TopologyTests() {}

  /** A driver for {@code topology} with {@code guarantee}, its wall clock at 2026-11-27. */
  static TopologyTestDriver driver(Topology topology, String guarantee) {
    return driver(topology, guarantee, new Properties());
  }

  /** The same with {@code extra} properties. */
  static TopologyTestDriver driver(Topology topology, String guarantee, Properties extra) {
    return TopologyTestKit.driver(
        topology, guarantee, extra, Instant.parse("2026-11-27T00:00:00Z"));
  }

  /**
   * The reconciliation store, in memory and without a changelog, registered with {@code context}:
   * for a {@link Reconciler} driven by a {@code MockProcessorContext}.
   */
  static KeyValueStore<String, ReconciliationState> reconciliationStore(
      MockProcessorContext<String, SpecificRecord> context) {
    return TopologyTestKit.store(
        context,
        ReconciliationTopology.STORE,
        new AvroSerdes(new InMemorySchemaRegistryClient(), true).value(ReconciliationState.class));
  }

  static <V> TestInputTopic<String, V> input(TopologyTestDriver driver, Topic<String, V> topic) {
    return TopologyTestKit.input(driver, topic);
  }

  static <V> TestOutputTopic<String, V> output(TopologyTestDriver driver, Topic<String, V> topic) {
    return TopologyTestKit.output(driver, topic);
  }

  /** {@link TopologyTestKit#assertUnchanged}. */
  static String assertUnchanged(Topology topology, String file) throws IOException {
    return TopologyTestKit.assertUnchanged(topology, file);
  }
}
