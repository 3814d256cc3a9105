package dev.renewal.topics;

import java.util.Map;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * A topic with its serdes and settings, so that no service repeats them.
 *
 * @param name the full topic name (with any configured prefix)
 * @param configs topic-level configs, e.g. {@code cleanup.policy} and {@code retention.ms}
 */
public record Topic<K, V>(
    String name,
    Serde<K> keySerde,
    Serde<V> valueSerde,
    int partitions,
    Map<String, String> configs) {

  public Topic {
    configs = Map.copyOf(configs);
  }

  /** {@code delete} or {@code compact}. */
  public String cleanupPolicy() {
    return configs.getOrDefault(
        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE);
  }

  public boolean compacted() {
    return cleanupPolicy().contains(TopicConfig.CLEANUP_POLICY_COMPACT);
  }

  public NewTopic newTopic(short replicationFactor) {
    return new NewTopic(name, partitions, replicationFactor).configs(configs);
  }

  public ProducerRecord<K, V> record(K key, V value) {
    return new ProducerRecord<>(name, key, value);
  }

  public Consumed<K, V> consumed() {
    return Consumed.with(keySerde, valueSerde);
  }

  public Produced<K, V> produced() {
    return Produced.with(keySerde, valueSerde);
  }
}
