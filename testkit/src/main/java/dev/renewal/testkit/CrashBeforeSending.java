package dev.renewal.testkit;

import java.util.Map;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A producer that dies (throws) when asked to send to one topic, e.g. a service's announcement: a
 * crash right after the record it wrote before. Every other send goes through.
 */
public final class CrashBeforeSending extends KafkaProducer<byte[], byte[]> {
  private final String crashTopic;

  public CrashBeforeSending(Map<String, Object> props, String crashTopic) {
    super(props, new ByteArraySerializer(), new ByteArraySerializer());
    this.crashTopic = crashTopic;
  }

  @Override
  public Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
    if (record.topic().equals(crashTopic)) {
      throw new IllegalStateException("simulated crash before sending to " + crashTopic);
    }
    return super.send(record, callback);
  }
}
