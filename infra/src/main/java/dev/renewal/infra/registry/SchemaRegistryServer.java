package dev.renewal.infra.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.renewal.registry.SchemaRegistryException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Confluent-compatible schema registry (Avro only) over HTTP, for the one-machine stack. It
 * answers the calls that Confluent's serializers, Kafka UI and other standard clients make:
 *
 * <ul>
 *   <li>{@code POST /subjects/{s}/versions}, {@code POST /subjects/{s}} (look-up)
 *   <li>{@code GET /subjects}, {@code GET /subjects/{s}/versions}, {@code GET
 *       /subjects/{s}/versions/{v|latest}[/schema]}
 *   <li>{@code GET /schemas/ids/{id}}, {@code GET /schemas/ids/{id}/versions}, {@code GET
 *       /schemas/types}
 *   <li>{@code GET|PUT /config}, {@code GET|PUT /config/{s}}, {@code GET /mode}
 *   <li>{@code POST /compatibility/subjects/{s}/versions[/{v|latest}]}
 *   <li>{@code DELETE /subjects/{s}[?permanent=true]}, {@code DELETE
 *       /subjects/{s}/versions/{v|latest}[?permanent=true]} (soft, then permanent), and {@code
 *       ?deleted=true} on the listings and on a version
 * </ul>
 *
 * Content types as Confluent's: a request body may be {@code
 * application/vnd.schemaregistry.v1+json}, {@code application/vnd.schemaregistry+json}, {@code
 * application/json} or {@code application/octet-stream} (else 415), and the answer has the type the
 * {@code Accept} header prefers among the first three, {@code
 * application/vnd.schemaregistry.v1+json} when it names none or any (else 406). Kafka UI's registry
 * client up to v1.4.2 reads only {@code application/json}.
 *
 * <p>Errors use Confluent's body {@code {"error_code":…,"message":…}}: 404 with 40401/40402/40403
 * for unknown subjects, versions and ids and 40404-40407 for deletes out of turn, 409 for an
 * incompatible schema, 422 with 42201/42202/42203 for invalid input.
 */
public final class SchemaRegistryServer implements AutoCloseable {
  private static final Logger LOGGER = LoggerFactory.getLogger(SchemaRegistryServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String V1 = "application/vnd.schemaregistry.v1+json";
  static final String DEFAULT = "application/vnd.schemaregistry+json";
  static final String JSON_TYPE = "application/json";
  private static final List<String> REQUEST_TYPES =
      List.of(V1, DEFAULT, JSON_TYPE, "application/octet-stream");

  private final SchemaStore store;
  private final HttpServer server;
  private final ExecutorService executor;

  private SchemaRegistryServer(SchemaStore store, HttpServer server, ExecutorService executor) {
    this.store = store;
    this.server = server;
    this.executor = executor;
  }

  /**
   * Starts serving {@code store} on {@code host}:{@code port} (0 for a free port).
   *
   * @throws IOException if the address cannot be bound
   */
  public static SchemaRegistryServer start(SchemaStore store, String host, int port)
      throws IOException {
    HttpServer server = dev.renewal.http.HttpServers.create(new InetSocketAddress(host, port), 64);
    ExecutorService executor =
        Executors.newFixedThreadPool(
            4,
            r -> {
              Thread t = new Thread(r, "schema-registry-http");
              t.setDaemon(true);
              return t;
            });
    SchemaRegistryServer registry = new SchemaRegistryServer(store, server, executor);
    server.createContext("/", registry::handle);
    server.setExecutor(executor);
    server.start();
    LOGGER.info("schema registry listening: url={}", registry.url());
    return registry;
  }

  public URI url() {
    InetSocketAddress address = server.getAddress();
    return URI.create("http://" + address.getHostString() + ":" + address.getPort());
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdown();
    try {
      executor.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The type to answer with for an {@code Accept} header: the supported type with the highest
   * quality, {@link #V1} for none, {@code *}{@code /*} or {@code application/*}; null when the
   * header accepts none of them.
   */
  static String answerType(String accept) {
    if (accept == null || accept.isBlank()) {
      return V1;
    }
    String best = null;
    double bestQ = 0;
    for (String range : accept.split(",")) {
      String[] parts = range.split(";");
      String type = parts[0].trim().toLowerCase(java.util.Locale.ROOT);
      double q = 1;
      for (int i = 1; i < parts.length; i++) {
        String param = parts[i].trim();
        if (param.startsWith("q=")) {
          try {
            q = Double.parseDouble(param.substring(2));
          } catch (NumberFormatException e) {
            q = 0;
          }
        }
      }
      String candidate =
          switch (type) {
            case V1, DEFAULT, JSON_TYPE -> type;
            case "*/*", "application/*" -> V1;
            default -> null;
          };
      // Of equal qualities the first listed wins.
      if (candidate != null && q > bestQ) {
        best = candidate;
        bestQ = q;
      }
    }
    return best;
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      Object body;
      int status = 200;
      String type = answerType(exchange.getRequestHeaders().getFirst("Accept"));
      try {
        if (type == null) {
          type = V1;
          throw new BadRequest(
              406,
              406,
              "Not Acceptable: answers are " + String.join(", ", List.of(V1, DEFAULT, JSON_TYPE)));
        }
        String sent = exchange.getRequestHeaders().getFirst("Content-Type");
        if (sent != null
            && !sent.isBlank()
            && !REQUEST_TYPES.contains(
                sent.split(";")[0].trim().toLowerCase(java.util.Locale.ROOT))) {
          throw new BadRequest(
              415, 415, "Unsupported Media Type: " + sent + "; send one of " + REQUEST_TYPES);
        }
        body = route(exchange);
      } catch (SchemaRegistryException e) {
        status = e.httpStatus() > 0 ? e.httpStatus() : 500;
        body = error(e.errorCode() > 0 ? e.errorCode() : 50001, e.getMessage());
      } catch (BadRequest e) {
        status = e.status;
        body = error(e.code, e.getMessage());
      } catch (RuntimeException e) {
        LOGGER.warn("schema registry request failed: path={}", exchange.getRequestURI(), e);
        status = 500;
        body = error(50001, "internal error: " + e);
      }
      byte[] bytes = JSON.writeValueAsBytes(body);
      exchange.getResponseHeaders().set("Content-Type", type);
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  private Object route(HttpExchange exchange) throws IOException {
    String method = exchange.getRequestMethod();
    List<String> p = segments(exchange.getRequestURI().getRawPath());
    String query = exchange.getRequestURI().getRawQuery();
    int n = p.size();
    if (n == 0 && method.equals("GET")) {
      return JSON.createObjectNode();
    }
    String head = n > 0 ? p.get(0) : "";
    boolean deleted = flag(query, "deleted");
    switch (head) {
      case "subjects" -> {
        if (n == 1 && method.equals("GET")) {
          String prefix = parameter(query, "subjectPrefix").orElse("");
          return store.subjects(deleted).stream().filter(s -> s.startsWith(prefix)).toList();
        }
        String subject = n > 1 ? p.get(1) : "";
        if (n == 2 && method.equals("POST")) {
          SchemaStore.Version v = store.lookup(subject, schemaOf(exchange));
          return version(v);
        }
        if (n == 2 && method.equals("DELETE")) {
          return store.deleteSubject(subject, flag(query, "permanent"));
        }
        if (n == 3 && p.get(2).equals("versions") && method.equals("GET")) {
          return store.versions(subject, deleted).stream()
              .map(SchemaStore.Version::version)
              .toList();
        }
        if (n == 3 && p.get(2).equals("versions") && method.equals("POST")) {
          ObjectNode out = JSON.createObjectNode();
          out.put("id", store.register(subject, schemaOf(exchange)));
          return out;
        }
        if (n == 4 && p.get(2).equals("versions") && method.equals("GET")) {
          return version(store.version(subject, p.get(3), deleted));
        }
        if (n == 4 && p.get(2).equals("versions") && method.equals("DELETE")) {
          return store.deleteVersion(subject, p.get(3), flag(query, "permanent"));
        }
        if (n == 5 && p.get(2).equals("versions") && p.get(4).equals("schema")) {
          if (method.equals("GET")) {
            return JSON.readTree(store.version(subject, p.get(3), deleted).schema());
          }
        }
      }
      case "schemas" -> {
        if (n == 2 && p.get(1).equals("types") && method.equals("GET")) {
          return List.of("AVRO");
        }
        if (n >= 3 && p.get(1).equals("ids") && method.equals("GET")) {
          int id = parseId(p.get(2));
          if (n == 3) {
            ObjectNode out = JSON.createObjectNode();
            out.put("schema", store.schemaById(id));
            return out;
          }
          if (n == 4 && p.get(3).equals("versions")) {
            ArrayNode out = JSON.createArrayNode();
            for (SchemaStore.Version v : store.versionsOf(id)) {
              out.addObject().put("subject", v.subject()).put("version", v.version());
            }
            return out;
          }
        }
      }
      case "config" -> {
        if (n == 1 && method.equals("GET")) {
          return level("compatibilityLevel", store.globalLevel());
        }
        if (n == 1 && method.equals("PUT")) {
          return level("compatibility", store.setLevel(null, compatibilityOf(exchange)));
        }
        if (n == 2 && method.equals("GET")) {
          String subject = p.get(1);
          var own = store.subjectLevel(subject);
          if (own.isPresent()) {
            return level("compatibilityLevel", own.get());
          }
          if (flag(query, "defaultToGlobal")) {
            return level("compatibilityLevel", store.globalLevel());
          }
          throw new BadRequest(
              404,
              40408,
              "Subject '" + subject + "' does not have subject-level compatibility configured");
        }
        if (n == 2 && method.equals("PUT")) {
          return level("compatibility", store.setLevel(p.get(1), compatibilityOf(exchange)));
        }
      }
      case "mode" -> {
        if (method.equals("GET")) {
          ObjectNode out = JSON.createObjectNode();
          out.put("mode", "READWRITE");
          return out;
        }
      }
      case "compatibility" -> {
        if ((n == 4 || n == 5)
            && p.get(1).equals("subjects")
            && p.get(3).equals("versions")
            && method.equals("POST")) {
          String schema = schemaOf(exchange);
          List<String> problems =
              store.checkCompatibility(p.get(2), n == 5 ? p.get(4) : null, schema);
          ObjectNode out = JSON.createObjectNode();
          out.put("is_compatible", problems.isEmpty());
          if (flag(query, "verbose")) {
            ArrayNode messages = out.putArray("messages");
            problems.forEach(messages::add);
          }
          return out;
        }
      }
      default -> {
        // falls through to 404 below
      }
    }
    throw new BadRequest(
        404, 404, "HTTP 404 Not Found: " + method + " " + exchange.getRequestURI());
  }

  /** The value of query parameter {@code name}, decoded. */
  private static java.util.Optional<String> parameter(String query, String name) {
    if (query == null) {
      return java.util.Optional.empty();
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      if (key.equals(name)) {
        return java.util.Optional.of(
            eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return java.util.Optional.empty();
  }

  private static boolean flag(String query, String name) {
    return parameter(query, name).map(v -> v.equalsIgnoreCase("true")).orElse(false);
  }

  private static ObjectNode version(SchemaStore.Version v) {
    ObjectNode out = JSON.createObjectNode();
    out.put("subject", v.subject())
        .put("version", v.version())
        .put("id", v.id())
        .put("schema", v.schema());
    return out;
  }

  private static ObjectNode level(String field, CompatibilityLevel level) {
    ObjectNode out = JSON.createObjectNode();
    out.put(field, level.name());
    return out;
  }

  private static ObjectNode error(int code, String message) {
    ObjectNode out = JSON.createObjectNode();
    out.put("error_code", code);
    out.put("message", message);
    return out;
  }

  private static String schemaOf(HttpExchange exchange) throws IOException {
    JsonNode body = body(exchange);
    String type = body.path("schemaType").asText("AVRO");
    if (!type.equals("AVRO")) {
      throw new BadRequest(
          422, 42201, "Invalid schema: schemaType " + type + " is not supported here (AVRO only)");
    }
    JsonNode schema = body.path("schema");
    if (!schema.isTextual()) {
      throw new BadRequest(422, 42201, "Invalid schema: the body has no \"schema\" string");
    }
    return schema.asText();
  }

  private static String compatibilityOf(HttpExchange exchange) throws IOException {
    JsonNode body = body(exchange);
    return body.path("compatibility").asText(body.path("compatibilityLevel").asText(""));
  }

  private static JsonNode body(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      byte[] bytes = in.readAllBytes();
      try {
        JsonNode node = JSON.readTree(bytes);
        if (node == null || !node.isObject()) {
          throw new BadRequest(400, 400, "the request body must be a JSON object");
        }
        return node;
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new BadRequest(400, 400, "the request body is not JSON: " + e.getOriginalMessage());
      }
    }
  }

  private static int parseId(String text) {
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new BadRequest(404, 40403, "Schema " + text + " not found");
    }
  }

  private static List<String> segments(String rawPath) {
    List<String> out = new ArrayList<>();
    for (String s : rawPath.split("/")) {
      if (!s.isEmpty()) {
        out.add(URLDecoder.decode(s, StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  /** A request the registry refuses, with Confluent's status and error code. */
  private static final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final int code;

    BadRequest(int status, int code, String message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }
}
