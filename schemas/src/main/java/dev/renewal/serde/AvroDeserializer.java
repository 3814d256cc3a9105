package dev.renewal.serde;

import dev.renewal.registry.SchemaRegistryClient;
import dev.renewal.registry.SchemaRegistryException;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads the Confluent wire format into a generated event class (resolving the writer's schema,
 * fetched by id from the registry, against the class's own schema), or into a {@code GenericRecord}
 * in the writer's schema when the type is {@code GenericRecord}.
 *
 * <p>Anything it cannot decode raises {@link UndecodableRecordException}, naming the topic and the
 * reason, so that a service can send the record to the dead-letter topic and go on.
 */
public final class AvroDeserializer<T> implements Deserializer<T> {
  private final SchemaRegistryClient registry;
  private final Class<T> type;
  private final Schema readerSchema;
  private final Map<Integer, DatumReader<T>> readers = new ConcurrentHashMap<>();

  public AvroDeserializer(SchemaRegistryClient registry, Class<T> type) {
    AvroTrust.trustEventPackages();
    this.registry = registry;
    this.type = type;
    this.readerSchema =
        SpecificRecord.class.isAssignableFrom(type) ? SpecificData.get().getSchema(type) : null;
  }

  @Override
  public T deserialize(String topic, byte[] bytes) {
    if (bytes == null) {
      return null;
    }
    int id = ConfluentWireFormat.schemaId(topic, bytes);
    DatumReader<T> reader = readers.computeIfAbsent(id, i -> readerFor(topic, i));
    BinaryDecoder decoder =
        DecoderFactory.get()
            .binaryDecoder(
                bytes,
                ConfluentWireFormat.HEADER_LENGTH,
                bytes.length - ConfluentWireFormat.HEADER_LENGTH,
                null);
    try {
      T value = reader.read(null, decoder);
      if (!decoder.isEnd()) {
        throw new UndecodableRecordException(
            topic, "trailing bytes after the Avro value of schema id " + id, null);
      }
      return value;
    } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException e) {
      throw new UndecodableRecordException(
          topic, "corrupt Avro data for schema id " + id + ": " + e, e);
    }
  }

  private DatumReader<T> readerFor(String topic, int id) {
    Schema writer;
    try {
      writer = registry.schemaById(id);
    } catch (SchemaRegistryException e) {
      if (e.isNotFound()) {
        throw new UndecodableRecordException(
            topic, "unknown schema id " + id + " (the registry has no such schema)", e);
      }
      throw e;
    }
    if (readerSchema == null) {
      return new GenericDatumReader<>(writer);
    }
    SchemaCompatibility.SchemaPairCompatibility compatibility =
        SchemaCompatibility.checkReaderWriterCompatibility(readerSchema, writer);
    if (compatibility.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
      throw new UndecodableRecordException(
          topic,
          "schema id "
              + id
              + " ("
              + writer.getFullName()
              + ") cannot be read as "
              + type.getName()
              + ": "
              + compatibility.getDescription(),
          null);
    }
    return new SpecificDatumReader<>(writer, readerSchema);
  }
}
