package dev.renewal.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.JsonProperties;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract's rules: each current schema reads data written with every released copy and the
 * other way round (full compatibility), and every event follows the house rules for fields.
 */
class SchemaCompatibilityTest {
  private static final Path RELEASED = Path.of("released");

  static Stream<Arguments> releasedCopies() throws IOException {
    List<Arguments> out = new ArrayList<>();
    try (Stream<Path> versions = Files.list(RELEASED)) {
      for (Path version : versions.sorted().toList()) {
        for (Schema current : EventTypes.contract()) {
          Path file = version.resolve(current.getName() + ".avsc");
          if (Files.exists(file)) {
            out.add(
                Arguments.of(
                    version.getFileName() + "/" + current.getName(),
                    new Schema.Parser().parse(file.toFile()),
                    current));
          }
        }
      }
    }
    return out.stream();
  }

  @Test
  void everyEventHasACopyInTheLatestRelease() throws IOException {
    Path latest;
    try (Stream<Path> versions = Files.list(RELEASED)) {
      latest =
          versions
              .max(
                  java.util.Comparator.comparingInt(
                      v -> Integer.parseInt(v.getFileName().toString().substring(1))))
              .orElseThrow();
    }
    List<String> released;
    try (Stream<Path> files = Files.list(latest)) {
      released = files.map(f -> f.getFileName().toString().replace(".avsc", "")).toList();
    }
    assertThat(released)
        .containsExactlyInAnyOrderElementsOf(
            EventTypes.contract().stream().map(Schema::getName).toList());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("releasedCopies")
  void currentSchemaReadsDataWrittenWithTheReleasedCopy(
      String name, Schema released, Schema current) {
    var result = SchemaCompatibility.checkReaderWriterCompatibility(current, released);
    assertThat(result.getType())
        .as("backward: %s", result.getDescription())
        .isEqualTo(SchemaCompatibilityType.COMPATIBLE);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("releasedCopies")
  void releasedCopyReadsDataWrittenWithTheCurrentSchema(
      String name, Schema released, Schema current) {
    var result = SchemaCompatibility.checkReaderWriterCompatibility(released, current);
    assertThat(result.getType())
        .as("forward: %s", result.getDescription())
        .isEqualTo(SchemaCompatibilityType.COMPATIBLE);
  }

  @Test
  void aNewFieldWithoutDefaultIsCaughtByTheCheck() throws IOException {
    Schema released =
        new Schema.Parser().parse(RELEASED.resolve("v1/RenewalRequested.avsc").toFile());
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : released.getFields()) {
      fields.add(new Schema.Field(f, f.schema()));
    }
    fields.add(new Schema.Field("priority", Schema.create(Schema.Type.INT), null));
    Schema changed =
        Schema.createRecord(released.getName(), null, released.getNamespace(), false, fields);
    assertThat(SchemaCompatibility.checkReaderWriterCompatibility(changed, released).getType())
        .isEqualTo(SchemaCompatibilityType.INCOMPATIBLE);
  }

  @Test
  void everyEventCarriesEventIdWhatItIsAboutAndWhenItHappened() {
    for (Schema schema : EventTypes.schemas()) {
      assertThat(schema.getField("eventId")).as(schema.getName()).isNotNull();
      // A request's events name the request; a certificate's (RenewalDue, CertificateCommand),
      // keyed by certificate name, name the certificate.
      assertThat(schema.getField("requestId") != null || schema.getField("certificateName") != null)
          .as(schema.getName() + " has requestId or certificateName")
          .isTrue();
      Schema occurredAt = schema.getField("occurredAt").schema();
      assertThat(occurredAt.getLogicalType())
          .as(schema.getName())
          .isEqualTo(LogicalTypes.timestampMillis());
    }
  }

  @Test
  void everyOptionalFieldDefaultsToNullAndEveryEnumHasAnUnknownDefault() {
    List<String> offenders = new ArrayList<>();
    for (Schema schema : EventTypes.contract()) {
      walk(schema, schema.getName(), offenders, new ArrayList<>());
    }
    assertThat(offenders).isEmpty();
  }

  private static void walk(Schema schema, String path, List<String> offenders, List<String> seen) {
    switch (schema.getType()) {
      case RECORD -> {
        if (seen.contains(schema.getFullName())) {
          return;
        }
        seen.add(schema.getFullName());
        for (Schema.Field f : schema.getFields()) {
          Schema s = f.schema();
          if (s.isUnion() && s.getTypes().stream().anyMatch(t -> t.getType() == Schema.Type.NULL)) {
            if (!f.hasDefaultValue() || f.defaultVal() != JsonProperties.NULL_VALUE) {
              offenders.add(path + "." + f.name() + ": optional without a null default");
            }
          }
          walk(s, path + "." + f.name(), offenders, seen);
        }
      }
      case UNION -> schema.getTypes().forEach(t -> walk(t, path, offenders, seen));
      case ARRAY -> walk(schema.getElementType(), path + "[]", offenders, seen);
      case MAP -> walk(schema.getValueType(), path + "{}", offenders, seen);
      case ENUM -> {
        if (!"UNKNOWN".equals(schema.getEnumDefault())
            || !"UNKNOWN".equals(schema.getEnumSymbols().get(0))) {
          offenders.add(
              path + ": enum " + schema.getName() + " without UNKNOWN as first symbol and default");
        }
      }
      default -> {}
    }
  }
}
