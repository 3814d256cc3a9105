package dev.renewal.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.renewal.contract.SampleEvents;
import dev.renewal.events.AcmeStatus;
import dev.renewal.events.RenewalRequested;
import dev.renewal.registry.InMemorySchemaRegistryClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {
  private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
  private final AvroSerdes serdes = new AvroSerdes(registry, true);

  @Test
  void everyEventSurvivesARoundTripInTheConfluentWireFormat() {
    for (SpecificRecord event : SampleEvents.all()) {
      @SuppressWarnings("unchecked")
      Class<SpecificRecord> type = (Class<SpecificRecord>) event.getClass();
      var serde = serdes.value(type);
      byte[] bytes = serde.serializer().serialize("t", event);
      assertThat(bytes[0]).isEqualTo((byte) 0);
      int id = ByteBuffer.wrap(bytes, 1, 4).getInt();
      assertThat(registry.lookup("t-value", event.getSchema())).isEqualTo(id);
      assertThat(serde.deserializer().deserialize("t", bytes)).isEqualTo(event);
    }
  }

  @Test
  void valueSerializerSetsEventTypeAndRequestIdHeadersOnce() {
    var headers = new RecordHeaders();
    headers.add(AvroSerializer.EVENT_TYPE_HEADER, "Stale".getBytes(StandardCharsets.UTF_8));
    serdes
        .value(RenewalRequested.class)
        .serializer()
        .serialize("t", headers, SampleEvents.request());
    assertThat(headers.headers(AvroSerializer.EVENT_TYPE_HEADER)).hasSize(1);
    assertThat(
            new String(
                headers.lastHeader(AvroSerializer.EVENT_TYPE_HEADER).value(),
                StandardCharsets.UTF_8))
        .isEqualTo("RenewalRequested");
    assertThat(
            new String(
                headers.lastHeader(AvroSerializer.REQUEST_ID_HEADER).value(),
                StandardCharsets.UTF_8))
        .isEqualTo(SampleEvents.REQUEST_ID);
  }

  @Test
  void bytesWithoutTheMagicByteAreUndecodableAndTheErrorNamesTheTopic() {
    var deserializer = serdes.value(RenewalRequested.class).deserializer();
    byte[] json = "{\"requestId\":\"x\"}".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> deserializer.deserialize("renewal.requested", json))
        .isInstanceOf(UndecodableRecordException.class)
        .hasMessageContaining("renewal.requested")
        .hasMessageContaining("magic byte")
        .satisfies(
            e ->
                assertThat(((UndecodableRecordException) e).topic())
                    .isEqualTo("renewal.requested"));
  }

  @Test
  void tooShortBytesAreUndecodable() {
    var deserializer = serdes.value(RenewalRequested.class).deserializer();
    assertThatThrownBy(() -> deserializer.deserialize("renewal.requested", new byte[] {0, 0}))
        .isInstanceOf(UndecodableRecordException.class)
        .hasMessageContaining("renewal.requested")
        .hasMessageContaining("shorter than the 5-byte");
  }

  @Test
  void anUnknownSchemaIdIsUndecodableAndTheErrorNamesTheTopicAndTheId() {
    var deserializer = serdes.value(RenewalRequested.class).deserializer();
    byte[] bytes =
        ByteBuffer.allocate(8).put((byte) 0).putInt(4242).put(new byte[] {1, 2, 3}).array();
    assertThatThrownBy(() -> deserializer.deserialize("renewal.requested", bytes))
        .isInstanceOf(UndecodableRecordException.class)
        .hasMessageContaining("renewal.requested")
        .hasMessageContaining("unknown schema id 4242");
  }

  @Test
  void corruptAvroAfterAValidHeaderIsUndecodable() {
    var serde = serdes.value(RenewalRequested.class);
    byte[] good = serde.serializer().serialize("t", SampleEvents.request());
    byte[] truncated = java.util.Arrays.copyOf(good, 12);
    assertThatThrownBy(() -> serde.deserializer().deserialize("t", truncated))
        .isInstanceOf(UndecodableRecordException.class)
        .hasMessageContaining("corrupt Avro data");
  }

  @Test
  void aSchemaOfAnotherEventIsUndecodableAsThisEvent() {
    byte[] orderBytes =
        serdes
            .value(dev.renewal.events.OrderPlaced.class)
            .serializer()
            .serialize("t", SampleEvents.orderPlaced());
    assertThatThrownBy(
            () -> serdes.value(RenewalRequested.class).deserializer().deserialize("t", orderBytes))
        .isInstanceOf(UndecodableRecordException.class)
        .hasMessageContaining("cannot be read as dev.renewal.events.RenewalRequested");
  }

  @Test
  void dataWrittenByAnOlderWriterWithoutOptionalFieldsReadsWithDefaults() throws IOException {
    // A publisher on a minimal schema (only the required fields) -- e.g. another team's client.
    Schema current = RenewalRequested.getClassSchema();
    List<Schema.Field> required = new ArrayList<>();
    for (Schema.Field f : current.getFields()) {
      if (!f.hasDefaultValue()) {
        required.add(new Schema.Field(f, f.schema()));
      }
    }
    Schema minimal =
        Schema.createRecord("RenewalRequested", null, "dev.renewal.events", false, required);
    GenericRecord record = new GenericData.Record(minimal);
    record.put("eventId", "e");
    record.put("requestId", "r");
    record.put("occurredAt", 1_700_000_000_000L);
    record.put("certificateName", "c");
    record.put("dnsNames", List.of("a.example"));
    int id = registry.register("t-value", minimal);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.writeBytes(ByteBuffer.allocate(4).putInt(id).array());
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(minimal).write(record, encoder);
    encoder.flush();

    RenewalRequested read =
        serdes.value(RenewalRequested.class).deserializer().deserialize("t", out.toByteArray());

    assertThat(read.getChallengeType()).hasToString("HTTP_01");
    assertThat(read.getKeyType()).hasToString("EC_P256");
    assertThat(read.getAttempt()).isEqualTo(1);
    assertThat(read.getCaProfile()).isEqualTo("default");
    assertThat(read.getCsrPem()).isNull();
  }

  @Test
  void anEnumSymbolFromANewerWriterReadsAsUnknown() throws IOException {
    Schema newer =
        new Schema.Parser()
            .parse(
                "{\"type\":\"record\",\"name\":\"Wrapper\",\"namespace\":\"x\",\"fields\":[{\"name\":\"s\",\"type\":"
                    + "{\"type\":\"enum\",\"name\":\"AcmeStatus\",\"namespace\":\"dev.renewal.events\","
                    + "\"symbols\":[\"UNKNOWN\",\"PENDING\",\"ON_HOLD\"],\"default\":\"UNKNOWN\"}}]}");
    Schema reader =
        new Schema.Parser()
            .parse(
                "{\"type\":\"record\",\"name\":\"Wrapper\",\"namespace\":\"x\",\"fields\":[{\"name\":\"s\",\"type\":"
                    + AcmeStatus.getClassSchema()
                    + "}]}");
    GenericRecord record = new GenericData.Record(newer);
    record.put("s", new GenericData.EnumSymbol(newer.getField("s").schema(), "ON_HOLD"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(newer).write(record, encoder);
    encoder.flush();
    GenericRecord read =
        new org.apache.avro.generic.GenericDatumReader<GenericRecord>(newer, reader)
            .read(
                null,
                org.apache.avro.io.DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
    assertThat(read.get("s")).hasToString("UNKNOWN");
  }

  @Test
  void withoutAutoRegisterAnUnregisteredSchemaFailsClearly() {
    var strict = new AvroSerdes(registry, false);
    assertThatThrownBy(
            () ->
                strict
                    .value(RenewalRequested.class)
                    .serializer()
                    .serialize("fresh", SampleEvents.request()))
        .hasMessageContaining("not found");
  }

  @Test
  void genericRecordsAreReadInTheWritersSchema() {
    byte[] bytes =
        serdes.value(RenewalRequested.class).serializer().serialize("t", SampleEvents.request());
    GenericRecord generic =
        serdes.value(GenericRecord.class).deserializer().deserialize("t", bytes);
    assertThat(generic.getSchema().getName()).isEqualTo("RenewalRequested");
    assertThat(generic.get("requestId")).hasToString(SampleEvents.REQUEST_ID);
    byte[] again = serdes.value(GenericRecord.class).serializer().serialize("t", generic);
    assertThat(serdes.value(RenewalRequested.class).deserializer().deserialize("t", again))
        .isEqualTo(SampleEvents.request());
  }
}
