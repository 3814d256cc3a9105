package dev.renewal.topics;

import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Records read as bytes and decoded one by one, so that a record that cannot be decoded is one
 * record to skip, not an exception that stops the consumer at its offset (which a typed {@code
 * KafkaConsumer} throws from {@code poll}, again after every restart).
 */
public final class Decoding {
  private Decoding() {}

  /** {@code raw} as a record of {@code topic}, or empty when its key or value cannot be decoded. */
  public static <K, V> Optional<ConsumerRecord<K, V>> decode(
      ConsumerRecord<byte[], byte[]> raw, Topic<K, V> topic) {
    return decode(raw, topic.keySerde().deserializer(), topic.valueSerde().deserializer());
  }

  /** {@code raw} decoded, or empty when its key or value cannot be. */
  public static <K, V> Optional<ConsumerRecord<K, V>> decode(
      ConsumerRecord<byte[], byte[]> raw, Deserializer<K> keys, Deserializer<V> values) {
    K key;
    V value;
    try {
      key = keys.deserialize(raw.topic(), raw.headers(), raw.key());
      value = values.deserialize(raw.topic(), raw.headers(), raw.value());
    } catch (RuntimeException undecodable) {
      return Optional.empty();
    }
    return Optional.of(
        new ConsumerRecord<>(
            raw.topic(),
            raw.partition(),
            raw.offset(),
            raw.timestamp(),
            raw.timestampType(),
            raw.serializedKeySize(),
            raw.serializedValueSize(),
            key,
            value,
            raw.headers(),
            raw.leaderEpoch()));
  }
}
