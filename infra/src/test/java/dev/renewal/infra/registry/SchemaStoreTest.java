package dev.renewal.infra.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.renewal.registry.SchemaRegistryException;
import org.junit.jupiter.api.Test;

class SchemaStoreTest {
  static final String V1 =
      "{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}";
  static final String V2_WITH_DEFAULT =
      "{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"},"
          + "{\"name\":\"y\",\"type\":\"string\",\"default\":\"\"}]}";
  static final String V2_WITHOUT_DEFAULT =
      "{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"},"
          + "{\"name\":\"y\",\"type\":\"string\"}]}";
  static final String V1_WITHOUT_X = "{\"type\":\"record\",\"name\":\"A\",\"fields\":[]}";

  private final InMemorySchemaLog log = new InMemorySchemaLog();
  private final SchemaStore store = new SchemaStore(log, CompatibilityLevel.BACKWARD);

  private static SchemaRegistryException registryError(Runnable call) {
    try {
      call.run();
    } catch (SchemaRegistryException e) {
      return e;
    }
    throw new AssertionError("expected a SchemaRegistryException");
  }

  @Test
  void registeringTheSameSchemaTwiceKeepsOneVersionAndId() {
    int id = store.register("s-value", V1);
    assertThat(store.register("s-value", V1.replace(" ", ""))).isEqualTo(id);
    assertThat(store.versions("s-value")).hasSize(1);
  }

  @Test
  void theSameSchemaUnderTwoSubjectsHasOneGlobalId() {
    int a = store.register("a-value", V1);
    int b = store.register("b-value", V1);
    assertThat(a).isEqualTo(b);
    assertThat(store.versionsOf(a))
        .extracting(SchemaStore.Version::subject)
        .containsExactly("a-value", "b-value");
  }

  @Test
  void aNewFieldWithoutADefaultIsRejectedUnderBackwardWith409() {
    store.register("s-value", V1);
    SchemaRegistryException e = registryError(() -> store.register("s-value", V2_WITHOUT_DEFAULT));
    assertThat(e.httpStatus()).isEqualTo(409);
    assertThat(e.errorCode()).isEqualTo(409);
    assertThat(e.getMessage())
        .contains("incompatible")
        .contains("READER_FIELD_MISSING_DEFAULT_VALUE");
    assertThat(store.versions("s-value")).hasSize(1);
  }

  @Test
  void aNewFieldWithADefaultIsAcceptedAsVersionTwoWithANewId() {
    int v1 = store.register("s-value", V1);
    int v2 = store.register("s-value", V2_WITH_DEFAULT);
    assertThat(v2).isNotEqualTo(v1);
    assertThat(store.version("s-value", "latest").version()).isEqualTo(2);
    assertThat(store.version("s-value", "1").id()).isEqualTo(v1);
  }

  @Test
  void forwardRejectsRemovingAFieldWithoutADefaultThatBackwardAllows() {
    store.register("s-value", V1);
    assertThat(store.checkCompatibility("s-value", "latest", V1_WITHOUT_X)).isEmpty();
    store.setLevel("s-value", "FORWARD");
    assertThat(store.checkCompatibility("s-value", "latest", V1_WITHOUT_X)).isNotEmpty();
    store.setLevel("s-value", "NONE");
    assertThat(store.register("s-value", V2_WITHOUT_DEFAULT)).isPositive();
  }

  @Test
  void transitiveLevelsCheckEveryEarlierVersion() {
    store.setLevel(null, "NONE");
    store.register("s-value", V1);
    store.register("s-value", V1_WITHOUT_X);
    // Lacks x: the latest version (no fields) reads it, version 1 (x without default) does not.
    String lacksX =
        "{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"w\",\"type\":\"int\",\"default\":0}]}";
    store.setLevel("s-value", "FORWARD");
    assertThat(store.checkCompatibility("s-value", "latest", lacksX)).isEmpty();
    store.setLevel("s-value", "FORWARD_TRANSITIVE");
    assertThat(store.checkCompatibility("s-value", null, lacksX)).isNotEmpty();
    assertThatThrownBy(() -> store.register("s-value", lacksX))
        .isInstanceOf(SchemaRegistryException.class);
  }

  @Test
  void aRestartedStoreRebuildsTheSameIdsVersionsAndLevelsFromTheLog() {
    int a = store.register("a-value", V1);
    int b = store.register("a-value", V2_WITH_DEFAULT);
    store.setLevel("a-value", "FULL");
    store.setLevel(null, "NONE");

    SchemaStore restarted = new SchemaStore(log, CompatibilityLevel.BACKWARD);

    assertThat(restarted.schemaById(a)).isEqualTo(store.schemaById(a));
    assertThat(restarted.version("a-value", "2").id()).isEqualTo(b);
    assertThat(restarted.subjectLevel("a-value")).contains(CompatibilityLevel.FULL);
    assertThat(restarted.globalLevel()).isEqualTo(CompatibilityLevel.NONE);
    assertThat(restarted.register("c-value", "{\"type\":\"string\"}")).isEqualTo(b + 1);
  }

  @Test
  void unknownSubjectsVersionsAndIdsAreNotFoundWithConfluentCodes() {
    assertThat(registryError(() -> store.versions("nope")).errorCode()).isEqualTo(40401);
    store.register("s-value", V1);
    assertThat(registryError(() -> store.version("s-value", "9")).errorCode()).isEqualTo(40402);
    assertThat(registryError(() -> store.version("s-value", "zero")).errorCode()).isEqualTo(42202);
    assertThat(registryError(() -> store.schemaById(99)).errorCode()).isEqualTo(40403);
    assertThat(registryError(() -> store.lookup("s-value", V2_WITH_DEFAULT)).errorCode())
        .isEqualTo(40403);
    assertThat(registryError(() -> store.lookup("other", V1)).errorCode()).isEqualTo(40401);
  }

  @Test
  void invalidSchemasAndLevelsAreRejectedWith422() {
    assertThat(registryError(() -> store.register("s", "{\"type\":\"recrod\"}")).errorCode())
        .isEqualTo(42201);
    assertThat(registryError(() -> store.setLevel(null, "SIDEWAYS")).errorCode()).isEqualTo(42203);
  }

  @Test
  void aFailedWriteChangesNothingAndSaysStoreError() {
    log.failWrites = true;
    SchemaRegistryException e = registryError(() -> store.register("s-value", V1));
    assertThat(e.errorCode()).isEqualTo(50001);
    assertThat(store.subjects()).isEmpty();
  }
}
