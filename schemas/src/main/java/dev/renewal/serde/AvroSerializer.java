package dev.renewal.serde;

import dev.renewal.registry.SchemaRegistryClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes Avro records (generated or generic) in the Confluent wire format, registering (or looking
 * up) the record's schema under the TopicNameStrategy subject.
 *
 * <p>Value serializers also set the headers {@value #EVENT_TYPE_HEADER} (the record's schema name)
 * and {@value #REQUEST_ID_HEADER} (when the record has a {@code requestId}), so that an operator
 * can filter in Kafka UI without decoding values.
 */
public final class AvroSerializer<T extends GenericContainer> implements Serializer<T> {
  /** Header naming the event type, e.g. {@code RenewalRequested}. */
  public static final String EVENT_TYPE_HEADER = "event-type";

  /** Header carrying the request id the event belongs to. */
  public static final String REQUEST_ID_HEADER = "request-id";

  private final SchemaRegistryClient registry;
  private final boolean isKey;
  private final boolean autoRegister;
  private final Map<String, Map<Schema, Integer>> ids = new ConcurrentHashMap<>();
  private final Map<Schema, DatumWriter<Object>> specificWriters = new ConcurrentHashMap<>();
  private final Map<Schema, DatumWriter<Object>> genericWriters = new ConcurrentHashMap<>();

  public AvroSerializer(SchemaRegistryClient registry, boolean isKey, boolean autoRegister) {
    this.registry = registry;
    this.isKey = isKey;
    this.autoRegister = autoRegister;
  }

  @Override
  public byte[] serialize(String topic, T data) {
    if (data == null) {
      return null;
    }
    Schema schema = data.getSchema();
    int id =
        ids.computeIfAbsent(topic, t -> new ConcurrentHashMap<>())
            .computeIfAbsent(schema, s -> schemaId(topic, s));
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    out.write(ConfluentWireFormat.MAGIC_BYTE);
    out.writeBytes(ByteBuffer.allocate(4).putInt(id).array());
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    try {
      DatumWriter<Object> writer =
          data instanceof SpecificRecord
              ? specificWriters.computeIfAbsent(schema, SpecificDatumWriter::new)
              : genericWriters.computeIfAbsent(schema, GenericDatumWriter::new);
      writer.write(data, encoder);
      encoder.flush();
    } catch (IOException | RuntimeException e) {
      throw new SerializationException(
          "cannot encode a " + schema.getFullName() + " for topic '" + topic + "': " + e, e);
    }
    return out.toByteArray();
  }

  @Override
  public byte[] serialize(String topic, Headers headers, T data) {
    byte[] bytes = serialize(topic, data);
    if (!isKey && data != null && headers != null) {
      try {
        headers.remove(EVENT_TYPE_HEADER);
        headers.add(EVENT_TYPE_HEADER, data.getSchema().getName().getBytes(StandardCharsets.UTF_8));
        if (data instanceof GenericRecord record && record.hasField("requestId")) {
          Object requestId = record.get("requestId");
          headers.remove(REQUEST_ID_HEADER);
          if (requestId != null) {
            headers.add(REQUEST_ID_HEADER, requestId.toString().getBytes(StandardCharsets.UTF_8));
          }
        }
      } catch (IllegalStateException readOnly) {
        // Headers of a record already sent are read-only; the value is still correct.
      }
    }
    return bytes;
  }

  private int schemaId(String topic, Schema schema) {
    String subject = ConfluentWireFormat.subject(topic, isKey);
    return autoRegister ? registry.register(subject, schema) : registry.lookup(subject, schema);
  }
}
