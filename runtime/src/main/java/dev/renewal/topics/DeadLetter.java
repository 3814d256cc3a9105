package dev.renewal.topics;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A record that cannot be processed at all, kept byte for byte with why and where it came from.
 * Nothing is dropped silently: the original key, value and headers go to the dead-letter topic,
 * with these headers added.
 */
public final class DeadLetter {
  public static final String REASON = "dlq.reason";
  public static final String SOURCE_TOPIC = "dlq.source.topic";
  public static final String SOURCE_PARTITION = "dlq.source.partition";
  public static final String SOURCE_OFFSET = "dlq.source.offset";
  public static final String SOURCE_TIMESTAMP = "dlq.source.timestamp";
  public static final String ERROR_CLASS = "dlq.error.class";
  public static final String SERVICE = "dlq.service";

  private DeadLetter() {}

  /** The dead-letter record for {@code source}, to {@code dlqTopic}. */
  public static ProducerRecord<byte[], byte[]> of(
      ConsumerRecord<byte[], byte[]> source,
      String dlqTopic,
      String reason,
      Throwable error,
      String service) {
    RecordHeaders headers = new RecordHeaders();
    for (Header h : source.headers()) {
      headers.add(h);
    }
    headers.add(REASON, bytes(reason));
    headers.add(SOURCE_TOPIC, bytes(source.topic()));
    headers.add(SOURCE_PARTITION, bytes(String.valueOf(source.partition())));
    headers.add(SOURCE_OFFSET, bytes(String.valueOf(source.offset())));
    headers.add(SOURCE_TIMESTAMP, bytes(String.valueOf(source.timestamp())));
    headers.add(SERVICE, bytes(service));
    if (error != null) {
      headers.add(ERROR_CLASS, bytes(error.getClass().getName()));
    }
    return new ProducerRecord<>(dlqTopic, null, source.key(), source.value(), headers);
  }

  /** A header's value as text, or null. */
  public static String header(Iterable<Header> headers, String name) {
    String value = null;
    for (Header h : headers) {
      if (h.key().equals(name) && h.value() != null) {
        value = new String(h.value(), StandardCharsets.UTF_8);
      }
    }
    return value;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
