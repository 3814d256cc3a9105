package dev.renewal.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * Bytes on a topic that cannot be decoded into the expected event: not in the Confluent wire
 * format, an unknown schema id, a schema the reader cannot resolve, or corrupt Avro. Services route
 * the record to a dead-letter topic with {@link #reason()}; they never stop on it.
 */
public final class UndecodableRecordException extends SerializationException {
  private static final long serialVersionUID = 1L;

  private final String topic;
  private final String reason;

  public UndecodableRecordException(String topic, String reason, Throwable cause) {
    super("cannot decode a record from topic '" + topic + "': " + reason, cause);
    this.topic = topic;
    this.reason = reason;
  }

  /** The topic the bytes were read from. */
  public String topic() {
    return topic;
  }

  /** Why, without the topic: fit for a dead-letter header. */
  public String reason() {
    return reason;
  }
}
