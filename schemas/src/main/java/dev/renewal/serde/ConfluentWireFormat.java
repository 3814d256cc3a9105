package dev.renewal.serde;

import java.nio.ByteBuffer;

/**
 * The Confluent wire format: byte 0 is the magic byte 0, bytes 1 to 4 the schema id (big-endian),
 * then the Avro binary encoding of the value. Any Confluent-compatible client, and Kafka UI, reads
 * it.
 */
public final class ConfluentWireFormat {
  /** The only magic byte defined. */
  public static final byte MAGIC_BYTE = 0;

  /** Magic byte plus schema id. */
  public static final int HEADER_LENGTH = 5;

  private ConfluentWireFormat() {}

  /** Subject under Confluent's default TopicNameStrategy. */
  public static String subject(String topic, boolean isKey) {
    return topic + (isKey ? "-key" : "-value");
  }

  /**
   * The schema id in {@code bytes}.
   *
   * @throws UndecodableRecordException if the bytes are not in the wire format
   */
  public static int schemaId(String topic, byte[] bytes) {
    if (bytes.length < HEADER_LENGTH) {
      throw new UndecodableRecordException(
          topic,
          "only "
              + bytes.length
              + " bytes, shorter than the 5-byte Confluent header (magic byte 0 and schema id)",
          null);
    }
    if (bytes[0] != MAGIC_BYTE) {
      throw new UndecodableRecordException(
          topic,
          String.format(
              "first byte is 0x%02x, not the Confluent magic byte 0x00: not written by an Avro"
                  + " serializer with a schema registry",
              bytes[0]),
          null);
    }
    return ByteBuffer.wrap(bytes, 1, 4).getInt();
  }
}
