package dev.renewal.infra.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.renewal.contract.SampleEvents;
import dev.renewal.events.RenewalRequested;
import dev.renewal.registry.RestSchemaRegistryClient;
import dev.renewal.serde.AvroSerdes;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The registry's REST API as Confluent clients and Kafka UI call it. */
class SchemaRegistryServerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
  private SchemaRegistryServer server;

  record Reply(int status, JsonNode body, String contentType) {}

  @BeforeEach
  void start() throws IOException {
    server =
        SchemaRegistryServer.start(
            new SchemaStore(new InMemorySchemaLog(), CompatibilityLevel.BACKWARD), "127.0.0.1", 0);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private Reply call(String method, String path, String body) throws Exception {
    return call(method, path, body, null, "application/vnd.schemaregistry.v1+json");
  }

  /** A call with {@code accept} (none when null) and {@code contentType} headers. */
  private Reply call(String method, String path, String body, String accept, String contentType)
      throws Exception {
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(server.url() + path));
    if (accept != null) {
      builder.header("Accept", accept);
    }
    if (contentType != null) {
      builder.header("Content-Type", contentType);
    }
    HttpRequest request =
        builder
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    return new Reply(
        response.statusCode(),
        JSON.readTree(response.body()),
        response.headers().firstValue("Content-Type").orElse(""));
  }

  private static String schemaBody(String schema) {
    return "{\"schema\":" + TextNode.valueOf(schema) + "}";
  }

  @Test
  void registerLookUpAndReadBackThroughEveryEndpoint() throws Exception {
    Reply registered =
        call("POST", "/subjects/orders-value/versions", schemaBody(SchemaStoreTest.V1));
    assertThat(registered.status()).isEqualTo(200);
    assertThat(registered.contentType()).isEqualTo("application/vnd.schemaregistry.v1+json");
    int id = registered.body().get("id").asInt();

    assertThat(call("GET", "/subjects", null).body()).hasToString("[\"orders-value\"]");
    assertThat(call("GET", "/subjects/orders-value/versions", null).body()).hasToString("[1]");
    JsonNode latest = call("GET", "/subjects/orders-value/versions/latest", null).body();
    assertThat(latest.get("subject").asText()).isEqualTo("orders-value");
    assertThat(latest.get("version").asInt()).isEqualTo(1);
    assertThat(latest.get("id").asInt()).isEqualTo(id);
    assertThat(
            call("GET", "/subjects/orders-value/versions/1/schema", null)
                .body()
                .get("name")
                .asText())
        .isEqualTo("A");
    assertThat(call("GET", "/schemas/ids/" + id, null).body().get("schema").asText())
        .contains("\"name\":\"A\"");
    assertThat(call("GET", "/schemas/ids/" + id + "/versions", null).body())
        .hasToString("[{\"subject\":\"orders-value\",\"version\":1}]");
    Reply lookup = call("POST", "/subjects/orders-value", schemaBody(SchemaStoreTest.V1));
    assertThat(lookup.body().get("id").asInt()).isEqualTo(id);
    assertThat(call("GET", "/schemas/types", null).body()).hasToString("[\"AVRO\"]");
  }

  @Test
  void anIncompatibleSchemaIs409WithConfluentsErrorBody() throws Exception {
    call("POST", "/subjects/s-value/versions", schemaBody(SchemaStoreTest.V1));
    Reply reply =
        call("POST", "/subjects/s-value/versions", schemaBody(SchemaStoreTest.V2_WITHOUT_DEFAULT));
    assertThat(reply.status()).isEqualTo(409);
    assertThat(reply.body().get("error_code").asInt()).isEqualTo(409);
    assertThat(reply.body().get("message").asText())
        .contains("incompatible with an earlier schema");
  }

  @Test
  void unknownSubjectsVersionsAndIdsAre404WithTheirCodes() throws Exception {
    Reply subject = call("GET", "/subjects/none/versions", null);
    assertThat(subject.status()).isEqualTo(404);
    assertThat(subject.body().get("error_code").asInt()).isEqualTo(40401);
    Reply id = call("GET", "/schemas/ids/77", null);
    assertThat(id.status()).isEqualTo(404);
    assertThat(id.body().get("error_code").asInt()).isEqualTo(40403);
    call("POST", "/subjects/s-value/versions", schemaBody(SchemaStoreTest.V1));
    Reply version = call("GET", "/subjects/s-value/versions/5", null);
    assertThat(version.body().get("error_code").asInt()).isEqualTo(40402);
    Reply notRegistered =
        call("POST", "/subjects/s-value", schemaBody(SchemaStoreTest.V2_WITH_DEFAULT));
    assertThat(notRegistered.status()).isEqualTo(404);
    assertThat(notRegistered.body().get("error_code").asInt()).isEqualTo(40403);
  }

  @Test
  void compatibilityChecksAnswerWithoutRegistering() throws Exception {
    call("POST", "/subjects/s-value/versions", schemaBody(SchemaStoreTest.V1));
    Reply bad =
        call(
            "POST",
            "/compatibility/subjects/s-value/versions/latest?verbose=true",
            schemaBody(SchemaStoreTest.V2_WITHOUT_DEFAULT));
    assertThat(bad.body().get("is_compatible").asBoolean()).isFalse();
    assertThat(bad.body().get("messages").size()).isPositive();
    Reply good =
        call(
            "POST",
            "/compatibility/subjects/s-value/versions/latest",
            schemaBody(SchemaStoreTest.V2_WITH_DEFAULT));
    assertThat(good.body().get("is_compatible").asBoolean()).isTrue();
    assertThat(call("GET", "/subjects/s-value/versions", null).body()).hasToString("[1]");
  }

  @Test
  void configIsBackwardByDefaultAndSettableGloballyAndPerSubject() throws Exception {
    assertThat(call("GET", "/config", null).body().get("compatibilityLevel").asText())
        .isEqualTo("BACKWARD");
    assertThat(
            call("PUT", "/config/s-value", "{\"compatibility\":\"FULL\"}")
                .body()
                .get("compatibility")
                .asText())
        .isEqualTo("FULL");
    assertThat(call("GET", "/config/s-value", null).body().get("compatibilityLevel").asText())
        .isEqualTo("FULL");
    assertThat(call("GET", "/config/other", null).status()).isEqualTo(404);
    assertThat(
            call("GET", "/config/other?defaultToGlobal=true", null)
                .body()
                .get("compatibilityLevel")
                .asText())
        .isEqualTo("BACKWARD");
    Reply invalid = call("PUT", "/config", "{\"compatibility\":\"SIDEWAYS\"}");
    assertThat(invalid.status()).isEqualTo(422);
    assertThat(invalid.body().get("error_code").asInt()).isEqualTo(42203);
  }

  @Test
  void malformedRequestsGetClearErrors() throws Exception {
    assertThat(call("POST", "/subjects/s/versions", "not json").status()).isEqualTo(400);
    Reply invalidSchema = call("POST", "/subjects/s/versions", schemaBody("{\"type\":\"nope\"}"));
    assertThat(invalidSchema.status()).isEqualTo(422);
    assertThat(invalidSchema.body().get("error_code").asInt()).isEqualTo(42201);
    Reply protobuf =
        call("POST", "/subjects/s/versions", "{\"schemaType\":\"PROTOBUF\",\"schema\":\"x\"}");
    assertThat(protobuf.body().get("error_code").asInt()).isEqualTo(42201);
    assertThat(call("GET", "/nothing/here", null).status()).isEqualTo(404);
  }

  @Test
  void ourSerdesWorkAgainstIt() {
    AvroSerdes serdes = new AvroSerdes(new RestSchemaRegistryClient(server.url()), true);
    var serde = serdes.value(RenewalRequested.class);
    byte[] bytes = serde.serializer().serialize("renewal.requested", SampleEvents.request());
    AvroSerdes fresh = new AvroSerdes(new RestSchemaRegistryClient(server.url()), false);
    assertThat(
            fresh
                .value(RenewalRequested.class)
                .deserializer()
                .deserialize("renewal.requested", bytes))
        .isEqualTo(SampleEvents.request());
    assertThat(
            fresh
                .value(RenewalRequested.class)
                .serializer()
                .serialize("renewal.requested", SampleEvents.request()))
        .isEqualTo(bytes);
  }

  @Test
  void everyEndpointAnswersInTheTypeTheClientAskedFor() throws Exception {
    int id =
        call("POST", "/subjects/s-value/versions", schemaBody(SchemaStoreTest.V1))
            .body()
            .get("id")
            .asInt();
    String[][] calls = {
      {"GET", "/subjects", null},
      {"GET", "/subjects/s-value/versions", null},
      {"GET", "/subjects/s-value/versions/latest", null},
      {"GET", "/subjects/s-value/versions/1/schema", null},
      {"GET", "/schemas/ids/" + id, null},
      {"GET", "/schemas/ids/" + id + "/versions", null},
      {"GET", "/config", null},
      {"GET", "/config/s-value?defaultToGlobal=true", null},
      {"PUT", "/config", "{\"compatibility\":\"BACKWARD\"}"},
      {
        "POST",
        "/compatibility/subjects/s-value/versions/latest?verbose=true",
        schemaBody(SchemaStoreTest.V1)
      },
      {"POST", "/subjects/s-value/versions", schemaBody(SchemaStoreTest.V1)},
      {"POST", "/subjects/s-value", schemaBody(SchemaStoreTest.V1)},
      {"GET", "/subjects/none/versions", null},
    };
    String[][] accepts = {
      {null, "application/vnd.schemaregistry.v1+json"},
      {"application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry.v1+json"},
      {"application/vnd.schemaregistry+json", "application/vnd.schemaregistry+json"},
      {"application/json", "application/json"},
      {"*/*", "application/vnd.schemaregistry.v1+json"},
      {"text/html;q=0.9, application/json;q=0.8, */*;q=0.1", "application/json"},
      {
        "application/vnd.schemaregistry.v1+json; qs=0.9, application/vnd.schemaregistry+json;"
            + " qs=0.8, application/json; qs=0.7",
        "application/vnd.schemaregistry.v1+json"
      },
    };
    for (String[] c : calls) {
      Reply reference = call(c[0], c[1], c[2]);
      for (String[] a : accepts) {
        for (String sent :
            new String[] {
              "application/vnd.schemaregistry.v1+json",
              "application/vnd.schemaregistry+json",
              "application/json",
              "application/json; charset=utf-8"
            }) {
          Reply reply = call(c[0], c[1], c[2], a[0], sent);
          String what = c[0] + " " + c[1] + " Accept: " + a[0] + " Content-Type: " + sent;
          assertThat(reply.contentType()).as(what).isEqualTo(a[1]);
          assertThat(reply.status()).as(what).isEqualTo(reference.status());
          assertThat(reply.body()).as(what).isEqualTo(reference.body());
        }
      }
    }
  }

  @Test
  void anAnswerTypeNobodyAcceptsIs406AndABodyTypeItCannotReadIs415() throws Exception {
    Reply html = call("GET", "/subjects", null, "text/html", null);
    assertThat(html.status()).isEqualTo(406);
    assertThat(html.body().get("error_code").asInt()).isEqualTo(406);
    Reply xml =
        call(
            "POST",
            "/subjects/s-value/versions",
            schemaBody(SchemaStoreTest.V1),
            null,
            "application/xml");
    assertThat(xml.status()).isEqualTo(415);
    assertThat(call("GET", "/subjects", null).body()).hasToString("[]");
  }

  @Test
  void deletesAreSoftThenPermanentAsConfluentsAndOutOfTurnAreRefusedWithItsCodes()
      throws Exception {
    int id =
        call("POST", "/subjects/s-value/versions", schemaBody(SchemaStoreTest.V1))
            .body()
            .get("id")
            .asInt();
    call("POST", "/subjects/s-value/versions", schemaBody(SchemaStoreTest.V2_WITH_DEFAULT));
    call("POST", "/subjects/t-value/versions", schemaBody(SchemaStoreTest.V1));

    // Permanent before soft: refused.
    assertThat(code(call("DELETE", "/subjects/s-value/versions/1?permanent=true", null)))
        .isEqualTo(40407);
    assertThat(code(call("DELETE", "/subjects/s-value?permanent=true", null))).isEqualTo(40405);

    // Soft: hidden, but listed with deleted=true, readable with it, and its id still resolves.
    Reply one = call("DELETE", "/subjects/s-value/versions/1", null);
    assertThat(one.status()).isEqualTo(200);
    assertThat(one.body()).hasToString("1");
    assertThat(code(call("DELETE", "/subjects/s-value/versions/1", null))).isEqualTo(40406);
    assertThat(call("GET", "/subjects/s-value/versions", null).body()).hasToString("[2]");
    assertThat(call("GET", "/subjects/s-value/versions?deleted=true", null).body())
        .hasToString("[1,2]");
    assertThat(code(call("GET", "/subjects/s-value/versions/1", null))).isEqualTo(40402);
    assertThat(call("GET", "/subjects/s-value/versions/1?deleted=true", null).body().get("id"))
        .hasToString(String.valueOf(id));
    assertThat(call("GET", "/schemas/ids/" + id, null).status()).isEqualTo(200);

    // The whole subject: the live versions go; a second soft delete is refused.
    assertThat(call("DELETE", "/subjects/s-value", null).body()).hasToString("[2]");
    assertThat(code(call("DELETE", "/subjects/s-value", null))).isEqualTo(40404);
    assertThat(call("GET", "/subjects", null).body()).hasToString("[\"t-value\"]");
    assertThat(call("GET", "/subjects?deleted=true", null).body())
        .hasToString("[\"s-value\",\"t-value\"]");
    assertThat(code(call("GET", "/subjects/s-value/versions", null))).isEqualTo(40401);

    // Permanent: gone for good, listings with deleted=true too; t-value still holds the id.
    assertThat(call("DELETE", "/subjects/s-value?permanent=true", null).body())
        .hasToString("[1,2]");
    assertThat(call("GET", "/subjects?deleted=true", null).body()).hasToString("[\"t-value\"]");
    assertThat(code(call("DELETE", "/subjects/s-value", null))).isEqualTo(40401);
    assertThat(call("GET", "/schemas/ids/" + id, null).status()).isEqualTo(200);

    // A version deleted for good, the other way: soft then permanent, one at a time.
    call("DELETE", "/subjects/t-value/versions/latest", null);
    assertThat(call("DELETE", "/subjects/t-value/versions/1?permanent=true", null).body())
        .hasToString("1");
    assertThat(code(call("GET", "/schemas/ids/" + id, null))).isEqualTo(40403);
    // Registered again after a permanent delete: version 1 again, the same id.
    Reply again = call("POST", "/subjects/t-value/versions", schemaBody(SchemaStoreTest.V1));
    assertThat(again.body().get("id").asInt()).isEqualTo(id);
    assertThat(call("GET", "/subjects/t-value/versions", null).body()).hasToString("[1]");
  }

  @Test
  void deletesAreKeptInTheLogAndSurviveARestart() throws Exception {
    InMemorySchemaLog log = new InMemorySchemaLog();
    SchemaStore store = new SchemaStore(log, CompatibilityLevel.BACKWARD);
    store.register("s-value", SchemaStoreTest.V1);
    store.register("s-value", SchemaStoreTest.V2_WITH_DEFAULT);
    store.register("gone-value", SchemaStoreTest.V1);
    store.deleteVersion("s-value", "1", false);
    store.deleteSubject("gone-value", false);
    store.deleteSubject("gone-value", true);

    SchemaStore restarted = new SchemaStore(log, CompatibilityLevel.BACKWARD);
    assertThat(restarted.subjects(true)).containsExactly("s-value");
    assertThat(restarted.versions("s-value"))
        .extracting(SchemaStore.Version::version)
        .containsExactly(2);
    assertThat(restarted.versions("s-value", true))
        .extracting(SchemaStore.Version::deleted)
        .containsExactly(true, false);
    // A soft-deleted version's number is not given again.
    restarted.register("s-value", SchemaStoreTest.V1);
    assertThat(restarted.versions("s-value"))
        .extracting(SchemaStore.Version::version)
        .containsExactly(2, 3);
  }

  /**
   * The registry calls Kafka UI makes, as its source shows them (kafbat/kafka-ui v1.2.0, the
   * version infra/compose.yaml pinned, {@code
   * contract/src/main/resources/swagger/kafka-sr-api.yaml} and {@code SchemaRegistryService}; its
   * WebClient sends and decodes only {@code application/json}), with the fields it reads from each
   * answer.
   */
  @Test
  void kafkaUisRegistryCallsAllWork() throws Exception {
    String json = "application/json";
    String avro =
        "{\"schema\":" + TextNode.valueOf(SchemaStoreTest.V1) + ",\"schemaType\":\"AVRO\"}";
    // registerNewSchema: POST /subjects/{subject}/versions -> SubjectId {id}
    Reply registered = call("POST", "/subjects/ui-value/versions", avro, json, json);
    assertThat(registered.contentType()).isEqualTo(json);
    int id = registered.body().get("id").asInt();
    // getAllSubjectNames(subjectPrefix=null, deleted=false): GET /subjects?deleted=false
    assertThat(call("GET", "/subjects?deleted=false", null, json, null).body())
        .hasToString("[\"ui-value\"]");
    // getSubjectVersions: GET /subjects/{subject}/versions -> [int]
    assertThat(call("GET", "/subjects/ui-value/versions", null, json, null).body())
        .hasToString("[1]");
    // getSubjectVersion(subject, version, deleted=false) -> SchemaSubject {subject, version, id,
    // schema; schemaType absent means AVRO in KafkaSrMapper}
    Reply version =
        call("GET", "/subjects/ui-value/versions/latest?deleted=false", null, json, null);
    assertThat(version.contentType()).isEqualTo(json);
    assertThat(version.body().get("subject").asText()).isEqualTo("ui-value");
    assertThat(version.body().get("version").asInt()).isEqualTo(1);
    assertThat(version.body().get("id").asInt()).isEqualTo(id);
    assertThat(version.body().get("schema").asText()).contains("\"name\":\"A\"");
    // getSubjectCompatibilityLevel(subject, defaultToGlobal=true) -> {compatibilityLevel}
    assertThat(
            call("GET", "/config/ui-value?defaultToGlobal=true", null, json, null)
                .body()
                .get("compatibilityLevel")
                .asText())
        .isEqualTo("BACKWARD");
    // getGlobalCompatibilityLevel: GET /config -> {compatibilityLevel}
    assertThat(call("GET", "/config", null, json, null).body().get("compatibilityLevel").asText())
        .isEqualTo("BACKWARD");
    // checkSchemaCompatibility(subject, "latest", verbose=true, NewSubject) -> {is_compatible}
    String incompatible =
        "{\"schema\":"
            + TextNode.valueOf(SchemaStoreTest.V2_WITHOUT_DEFAULT)
            + ",\"schemaType\":\"AVRO\"}";
    Reply check =
        call(
            "POST",
            "/compatibility/subjects/ui-value/versions/latest?verbose=true",
            incompatible,
            json,
            json);
    assertThat(check.body().get("is_compatible").asBoolean()).isFalse();
    // updateSubjectCompatibilityLevel / updateGlobalCompatibilityLevel: PUT {compatibility}
    assertThat(
            call("PUT", "/config/ui-value", "{\"compatibility\":\"NONE\"}", json, json)
                .body()
                .get("compatibility")
                .asText())
        .isEqualTo("NONE");
    assertThat(
            call("PUT", "/config", "{\"compatibility\":\"FULL\"}", json, json)
                .body()
                .get("compatibility")
                .asText())
        .isEqualTo("FULL");
    // deleteSubjectVersion(subject, version, permanent=false), deleteAllSubjectVersions(subject,
    // permanent=false)
    call("POST", "/subjects/ui-value/versions", incompatible, json, json);
    assertThat(
            call("DELETE", "/subjects/ui-value/versions/2?permanent=false", null, json, null)
                .status())
        .isEqualTo(200);
    assertThat(call("DELETE", "/subjects/ui-value?permanent=false", null, json, null).body())
        .hasToString("[1]");
    assertThat(call("GET", "/subjects?deleted=false", null, json, null).body()).hasToString("[]");
    // The message decoder (Confluent's client): GET /schemas/ids/{id} -> {schema}, any Accept.
    assertThat(call("GET", "/schemas/ids/" + id, null, null, null).body().get("schema").asText())
        .contains("\"name\":\"A\"");
  }

  private static int code(Reply reply) {
    return reply.body().path("error_code").asInt();
  }
}
