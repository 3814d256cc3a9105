package dev.renewal.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small client for the Confluent Schema Registry REST API (v1). Confluent's own client is not on
 * Maven Central, so this is ours: it speaks only the calls the serdes need and works against any
 * Confluent-compatible registry (Confluent, Apicurio's ccompat API, Karapace, ours in infra).
 *
 * <p>Registrations and lookups are cached per subject and schema, schemas per id. Network errors,
 * HTTP 5xx and 429 are retried with exponential back-off and jitter, up to {@code maxAttempts}; any
 * other 4xx is final and becomes a {@link SchemaRegistryException} with the registry's {@code
 * error_code} and message. Retrying blocks the calling (producer or consumer) thread, as the
 * Confluent serializer does: the registry is infrastructure, not the CA, and answers are cached.
 */
public final class RestSchemaRegistryClient implements SchemaRegistryClient {
  private static final Logger LOGGER = LoggerFactory.getLogger(RestSchemaRegistryClient.class);
  private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI baseUrl;
  private final HttpClient http;
  private final Duration requestTimeout;
  private final int maxAttempts;
  private final Duration initialBackoff;
  private final Optional<String> authorization;
  private final Map<String, Integer> idsBySubjectAndSchema = new ConcurrentHashMap<>();
  private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();

  /**
   * @param baseUrl the registry's URL, e.g. {@code http://127.0.0.1:8081}
   * @param basicAuthUserInfo {@code user:password} for HTTP basic authentication, or null
   */
  public RestSchemaRegistryClient(
      URI baseUrl,
      Duration requestTimeout,
      int maxAttempts,
      Duration initialBackoff,
      String basicAuthUserInfo) {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1");
    }
    String url = baseUrl.toString();
    this.baseUrl = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
    this.requestTimeout = requestTimeout;
    this.maxAttempts = maxAttempts;
    this.initialBackoff = initialBackoff;
    this.authorization =
        Optional.ofNullable(basicAuthUserInfo)
            .filter(s -> !s.isBlank())
            .map(
                s ->
                    "Basic "
                        + Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8)));
    this.http = HttpClient.newBuilder().connectTimeout(requestTimeout).build();
  }

  /** A client with defaults fit for a registry on the same network: 5 s, 5 attempts, 100 ms. */
  public RestSchemaRegistryClient(URI baseUrl) {
    this(baseUrl, Duration.ofSeconds(5), 5, Duration.ofMillis(100), null);
  }

  public URI baseUrl() {
    return baseUrl;
  }

  @Override
  public int register(String subject, Schema schema) {
    return cachedId(subject, schema, "/subjects/" + encode(subject) + "/versions");
  }

  @Override
  public int lookup(String subject, Schema schema) {
    return cachedId(subject, schema, "/subjects/" + encode(subject));
  }

  /** POSTs {@code schema} to {@code path} (register or look-up) unless its id is cached. */
  private int cachedId(String subject, Schema schema, String path) {
    String key = subject + '\u0000' + schema;
    Integer cached = idsBySubjectAndSchema.get(key);
    if (cached != null) {
      return cached;
    }
    JsonNode answer = send("POST", path, body(schema));
    int id = answer.path("id").asInt(-1);
    if (id < 0) {
      throw new SchemaRegistryException(-1, -1, "registry answered without an id: " + answer);
    }
    idsBySubjectAndSchema.put(key, id);
    schemasById.putIfAbsent(id, schema);
    return id;
  }

  @Override
  public Schema schemaById(int id) {
    Schema cached = schemasById.get(id);
    if (cached != null) {
      return cached;
    }
    JsonNode answer = send("GET", "/schemas/ids/" + id, null);
    String type = answer.path("schemaType").asText("AVRO");
    if (!"AVRO".equals(type)) {
      throw new SchemaRegistryException(
          -1, -1, "schema id " + id + " is of type " + type + ", not AVRO");
    }
    Schema schema = new Schema.Parser().parse(answer.path("schema").asText());
    schemasById.putIfAbsent(id, schema);
    return schemasById.get(id);
  }

  private static String body(Schema schema) {
    ObjectNode node = JSON.createObjectNode();
    node.put("schema", schema.toString());
    return node.toString();
  }

  private static String encode(String subject) {
    return URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private JsonNode send(String method, String path, String body) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create(baseUrl + path))
            .timeout(requestTimeout)
            .header("Accept", CONTENT_TYPE + ", application/json");
    authorization.ifPresent(a -> builder.header("Authorization", a));
    if (body == null) {
      builder.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      builder
          .header("Content-Type", CONTENT_TYPE)
          .method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    HttpRequest request = builder.build();
    RuntimeException last = null;
    for (int attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
          return JSON.readTree(response.body());
        }
        SchemaRegistryException error = error(method, path, status, response.body());
        if (status < 500 && status != 429) {
          throw error;
        }
        last = error;
      } catch (IOException e) {
        last = new SchemaRegistryException(method + " " + baseUrl + path + " failed: " + e, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SchemaRegistryException(method + " " + baseUrl + path + " interrupted", e);
      }
      if (attempt < maxAttempts) {
        long base = initialBackoff.toMillis() << (attempt - 1);
        long delay = base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
        LOGGER.warn(
            "schema registry call failed, retrying: method={} path={} attempt={} delayMs={}"
                + " error={}",
            method,
            path,
            attempt,
            delay,
            last.getMessage());
        try {
          Thread.sleep(delay);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw last;
        }
      }
    }
    throw last;
  }

  private SchemaRegistryException error(String method, String path, int status, String body) {
    int code = status;
    String message = body;
    try {
      JsonNode node = JSON.readTree(body);
      code = node.path("error_code").asInt(status);
      message = node.path("message").asText(body);
    } catch (IOException | RuntimeException notJson) {
      // A proxy in front of the registry may answer HTML: keep the raw body as the message.
    }
    return new SchemaRegistryException(
        status,
        code,
        "schema registry "
            + method
            + " "
            + path
            + " answered "
            + status
            + " (error_code "
            + code
            + "): "
            + message);
  }
}
