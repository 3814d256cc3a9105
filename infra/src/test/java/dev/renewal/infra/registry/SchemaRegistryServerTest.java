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
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(server.url() + path))
            .header("Content-Type", "application/vnd.schemaregistry.v1+json")
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
}
