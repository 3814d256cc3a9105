package dev.renewal.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.renewal.events.RenewalRequested;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client against a scripted HTTP server: each test queues the answers and checks what the
 * client asked and how it took each answer.
 */
class RestSchemaRegistryClientTest {
  private record Answer(int status, String body) {}

  private HttpServer server;
  private final Deque<Answer> answers = new ArrayDeque<>();
  private final List<String> requests = Collections.synchronizedList(new ArrayList<>());
  private RestSchemaRegistryClient client;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          String body =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          requests.add(
              exchange.getRequestMethod()
                  + " "
                  + exchange.getRequestURI().getRawPath()
                  + " "
                  + body);
          Answer answer;
          synchronized (answers) {
            answer = answers.isEmpty() ? new Answer(500, "no answer queued") : answers.poll();
          }
          byte[] bytes = answer.body().getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(answer.status(), bytes.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
          }
        });
    server.start();
    client =
        new RestSchemaRegistryClient(
            URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/"),
            Duration.ofSeconds(2),
            3,
            Duration.ofMillis(5),
            null);
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private void answer(int status, String body) {
    answers.add(new Answer(status, body));
  }

  @Test
  void registersUnderTheSubjectAndCachesTheId() {
    answer(200, "{\"id\":7}");
    assertThat(client.register("renewal.requested-value", RenewalRequested.getClassSchema()))
        .isEqualTo(7);
    assertThat(client.register("renewal.requested-value", RenewalRequested.getClassSchema()))
        .isEqualTo(7);
    assertThat(client.schemaById(7)).isEqualTo(RenewalRequested.getClassSchema());
    assertThat(requests).hasSize(1);
    assertThat(requests.get(0))
        .startsWith("POST /subjects/renewal.requested-value/versions {\"schema\":");
  }

  @Test
  void retriesServerErrorsAndRateLimitsThenSucceeds() {
    answer(503, "unavailable");
    answer(429, "{\"error_code\":429,\"message\":\"slow down\"}");
    answer(200, "{\"id\":3}");
    assertThat(client.register("s", RenewalRequested.getClassSchema())).isEqualTo(3);
    assertThat(requests).hasSize(3);
  }

  @Test
  void givesUpAfterMaxAttemptsWithTheLastError() {
    answer(500, "{\"error_code\":50001,\"message\":\"store down\"}");
    answer(500, "{\"error_code\":50001,\"message\":\"store down\"}");
    answer(500, "{\"error_code\":50001,\"message\":\"store down\"}");
    assertThatThrownBy(() -> client.register("s", RenewalRequested.getClassSchema()))
        .isInstanceOf(SchemaRegistryException.class)
        .hasMessageContaining("50001")
        .hasMessageContaining("store down");
    assertThat(requests).hasSize(3);
  }

  @Test
  void anIncompatibleSchemaIsFinalAndCarriesTheConfluentErrorCode() {
    answer(409, "{\"error_code\":409,\"message\":\"Schema being registered is incompatible\"}");
    assertThatThrownBy(() -> client.register("s", RenewalRequested.getClassSchema()))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> {
              assertThat(e.httpStatus()).isEqualTo(409);
              assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.INCOMPATIBLE);
              assertThat(e.getMessage()).contains("incompatible");
            });
    assertThat(requests).hasSize(1);
  }

  @Test
  void anUnknownIdIsNotFoundWithError40403() {
    answer(404, "{\"error_code\":40403,\"message\":\"Schema 9 not found\"}");
    assertThatThrownBy(() -> client.schemaById(9))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> {
              assertThat(e.isNotFound()).isTrue();
              assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.SCHEMA_NOT_FOUND);
            });
  }

  @Test
  void fetchesASchemaByIdOnceAndRefusesOtherSchemaTypes() {
    answer(
        200,
        "{\"schema\":"
            + com.fasterxml.jackson.databind.node.TextNode.valueOf(
                RenewalRequested.getClassSchema().toString())
            + "}");
    assertThat(client.schemaById(1)).isEqualTo(RenewalRequested.getClassSchema());
    assertThat(client.schemaById(1)).isEqualTo(RenewalRequested.getClassSchema());
    assertThat(requests).containsExactly("GET /schemas/ids/1 ");
    answer(200, "{\"schemaType\":\"PROTOBUF\",\"schema\":\"syntax = \\\"proto3\\\";\"}");
    assertThatThrownBy(() -> client.schemaById(2)).hasMessageContaining("PROTOBUF");
  }

  @Test
  void aNonJsonErrorBodyIsKeptAsTheMessage() {
    answer(401, "<html>Unauthorized</html>");
    assertThatThrownBy(() -> client.lookup("s", RenewalRequested.getClassSchema()))
        .isInstanceOf(SchemaRegistryException.class)
        .hasMessageContaining("401")
        .hasMessageContaining("<html>Unauthorized</html>");
  }

  @Test
  void anUnreachableRegistryFailsWithTheAddressAfterRetries() {
    server.stop(0);
    assertThatThrownBy(() -> client.schemaById(1))
        .isInstanceOf(SchemaRegistryException.class)
        .hasMessageContaining("GET http://127.0.0.1:");
  }

  @Test
  void subjectsAreUrlEncodedAndBasicAuthIsSent() throws IOException {
    List<String> auth = Collections.synchronizedList(new ArrayList<>());
    server.removeContext("/");
    server.createContext(
        "/",
        exchange -> {
          auth.add(exchange.getRequestHeaders().getFirst("Authorization"));
          requests.add(exchange.getRequestURI().getRawPath());
          byte[] bytes = "{\"id\":1}".getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, bytes.length);
          exchange.getResponseBody().write(bytes);
          exchange.close();
        });
    var authed =
        new RestSchemaRegistryClient(
            URI.create("http://127.0.0.1:" + server.getAddress().getPort()),
            Duration.ofSeconds(2),
            1,
            Duration.ofMillis(5),
            "user:secret");
    authed.register("a b/c-value", RenewalRequested.getClassSchema());
    assertThat(requests).containsExactly("/subjects/a%20b%2Fc-value/versions");
    assertThat(auth).containsExactly("Basic dXNlcjpzZWNyZXQ=");
  }
}
