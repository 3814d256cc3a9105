package dev.renewal.testkit.pebble;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * ACME Renewal Information (RFC 9773) in front of a Pebble that has none (Debian's 2.4.0):
 * installed on a {@link FaultyAcmeProxy}, it adds {@code renewalInfo} to the directory, answers
 * {@code GET <renewalInfo>/<certificate id>} with the suggested window, explanation URL and
 * Retry-After that the test sets for that certificate (404 with a problem document for one it set
 * nothing for, as Let's Encrypt answers for a certificate it does not know), and records the {@code
 * replaces} of every newOrder, which it forwards to Pebble (which ignores the field) or, when told
 * to, refuses with {@code alreadyReplaced}.
 */
public final class RenewalInfoResponder {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String PATH = "/renewal-info";

  /** A suggested window (§4.2), the CA's explanation (may be null), the Retry-After to send. */
  public record Window(Instant start, Instant end, String explanationUrl, Duration retryAfter) {}

  private volatile Function<String, Optional<Window>> windows = id -> Optional.empty();
  private final Map<String, Integer> fetches = new ConcurrentHashMap<>();
  private final List<String> replaces = new CopyOnWriteArrayList<>();
  private final java.util.concurrent.atomic.AtomicInteger refuse =
      new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.atomic.AtomicInteger refused =
      new java.util.concurrent.atomic.AtomicInteger();

  private RenewalInfoResponder() {}

  /** Installs a responder on {@code proxy}; every certificate has no window until one is set. */
  public static RenewalInfoResponder install(FaultyAcmeProxy proxy) {
    RenewalInfoResponder r = new RenewalInfoResponder();
    proxy.with(r::directory);
    proxy.intercept(r::answer);
    return r;
  }

  /** The window of each certificate, by its certificate id (asked at every fetch). */
  public RenewalInfoResponder windows(Function<String, Optional<Window>> byCertificateId) {
    this.windows = byCertificateId;
    return this;
  }

  /** How often the renewal information of {@code certificateId} was asked for. */
  public int fetches(String certificateId) {
    return fetches.getOrDefault(certificateId, 0);
  }

  /** Every certificate id asked about, with how often. */
  public Map<String, Integer> fetches() {
    return Map.copyOf(fetches);
  }

  /**
   * The next {@code count} newOrders that carry {@code replaces} are refused with {@code
   * alreadyReplaced} (RFC 9773 §5), as a CA does for a certificate it considers replaced.
   */
  public RenewalInfoResponder refuseReplaces(int count) {
    refuse.set(count);
    return this;
  }

  /** How many newOrders were refused for their {@code replaces}. */
  public int refusedReplaces() {
    return refused.get();
  }

  /** The {@code replaces} of every newOrder that carried one, in order. */
  public List<String> replaces() {
    return List.copyOf(replaces);
  }

  private String directory(FaultyAcmeProxy.Exchange e) throws IOException {
    if (!e.method().equals("GET") || !e.path().equals("/dir") || e.status() != 200) {
      return null;
    }
    ObjectNode dir = (ObjectNode) JSON.readTree(e.body());
    URI newOrder = URI.create(dir.path("newOrder").asText());
    dir.put("renewalInfo", newOrder.resolve(PATH).toString());
    return dir.toString();
  }

  private FaultyAcmeProxy.Reply answer(FaultyAcmeProxy.Exchange request) throws IOException {
    if (request.method().equals("POST") && request.path().equals("/order-plz")) {
      if (request.hasPayload()) {
        JsonNode order =
            JSON.readTree(
                new String(
                    Base64.getUrlDecoder().decode(request.jwsPayload()), StandardCharsets.UTF_8));
        if (order.hasNonNull("replaces")) {
          replaces.add(order.get("replaces").asText());
          if (refuse.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            refused.incrementAndGet();
            ObjectNode p = JSON.createObjectNode();
            p.put("type", "urn:ietf:params:acme:error:alreadyReplaced");
            p.put("detail", "refused by RenewalInfoResponder");
            p.put("status", 409);
            return new FaultyAcmeProxy.Reply(
                409, Map.of("Content-Type", "application/problem+json"), p.toString());
          }
        }
      }
      return null;
    }
    if (!request.method().equals("GET") || !request.path().startsWith(PATH + "/")) {
      return null;
    }
    String id = request.path().substring(PATH.length() + 1);
    fetches.merge(id, 1, Integer::sum);
    Optional<Window> w = windows.apply(id);
    if (w.isEmpty()) {
      ObjectNode p = JSON.createObjectNode();
      p.put("type", "urn:ietf:params:acme:error:malformed");
      p.put("detail", "no renewal information for " + id + " (RenewalInfoResponder)");
      p.put("status", 404);
      return new FaultyAcmeProxy.Reply(
          404, Map.of("Content-Type", "application/problem+json"), p.toString());
    }
    ObjectNode body = JSON.createObjectNode();
    ObjectNode window = body.putObject("suggestedWindow");
    window.put("start", w.get().start().toString());
    window.put("end", w.get().end().toString());
    if (w.get().explanationUrl() != null) {
      body.put("explanationURL", w.get().explanationUrl());
    }
    return new FaultyAcmeProxy.Reply(
        200,
        Map.of(
            "Content-Type",
            "application/json",
            "Retry-After",
            String.valueOf(w.get().retryAfter().toSeconds())),
        body.toString());
  }
}
