package dev.renewal.topics;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends typed values to any {@link Topic} through one idempotent producer, serializing with the
 * topic's own serdes so that no caller repeats them. Thread-safe.
 *
 * <p>The returned futures complete on the publisher's own callback threads, never on the producer's
 * I/O thread: work chained on them may send again, and a send that must wait for metadata would
 * otherwise wait for the very thread it blocks (a 60 s stall at {@code max.block.ms}).
 */
public final class Publisher implements AutoCloseable {
  private final Producer<byte[], byte[]> producer;
  private final ExecutorService callbacks =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "publisher-callback");
            t.setDaemon(true);
            return t;
          });

  public Publisher(Producer<byte[], byte[]> producer) {
    this.producer = producer;
  }

  /** An idempotent, acks=all producer from Kafka client properties. */
  public static Publisher create(Map<String, Object> clientProps, String clientId) {
    Map<String, Object> props = new java.util.HashMap<>(clientProps);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
    return new Publisher(
        new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer()));
  }

  /** Sends {@code value} under {@code key}; completes when the broker acknowledged it. */
  public <K, V> CompletableFuture<RecordMetadata> send(Topic<K, V> topic, K key, V value) {
    return send(topic, key, value, new RecordHeaders());
  }

  public <K, V> CompletableFuture<RecordMetadata> send(
      Topic<K, V> topic, K key, V value, Headers headers) {
    byte[] k = topic.keySerde().serializer().serialize(topic.name(), headers, key);
    byte[] v = topic.valueSerde().serializer().serialize(topic.name(), headers, value);
    return sendRaw(new ProducerRecord<>(topic.name(), null, k, v, headers));
  }

  /** Sends bytes as they are (dead letters, replays of raw records). */
  public CompletableFuture<RecordMetadata> sendRaw(ProducerRecord<byte[], byte[]> record) {
    CompletableFuture<RecordMetadata> done = new CompletableFuture<>();
    try {
      producer.send(
          record,
          (metadata, error) ->
              callbacks.execute(
                  () -> {
                    if (error != null) {
                      done.completeExceptionally(error);
                    } else {
                      done.complete(metadata);
                    }
                  }));
    } catch (RuntimeException e) {
      done.completeExceptionally(e);
    }
    return done;
  }

  public void flush() {
    producer.flush();
  }

  @Override
  public void close() {
    producer.close(java.time.Duration.ofSeconds(10));
    callbacks.shutdown();
  }
}
