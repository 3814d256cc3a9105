package dev.renewal.testkit.pebble;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.renewal.tls.TrustedCertificates;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An HTTPS proxy in front of Pebble that reproduces what real CAs do wrong and Pebble does not
 * (docs/acme-quirks.md). It forwards every request with its {@code Host} header, so that Pebble
 * builds every URL for the proxy and checks each JWS {@code url} against it: nothing is rewritten
 * but what a {@link Quirk} changes. Needs {@code -Djdk.httpclient.allowRestrictedHeaders=host} at
 * JVM start (the launcher sets it for {@code renewal demo} and {@code renewal bench} only; the test
 * JVMs set it).
 */
public final class FaultyAcmeProxy implements AutoCloseable {
  private static final Logger LOGGER = LoggerFactory.getLogger(FaultyAcmeProxy.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> HOP_BY_HOP =
      Set.of(
          "connection",
          "content-length",
          "host",
          "expect",
          "upgrade",
          "transfer-encoding",
          "keep-alive");

  /** One ACME exchange as it passed through the proxy. */
  public record Exchange(
      String method,
      String path,
      String jwsPayload,
      int status,
      Map<String, List<String>> headers,
      String body) {

    /** True for a signed POST with a non-empty payload (not a POST-as-GET). */
    public boolean hasPayload() {
      return jwsPayload != null && !jwsPayload.isEmpty();
    }

    public boolean isChallengeTrigger() {
      return method.equals("POST") && path.startsWith("/chalZ/") && hasPayload();
    }

    public boolean isFinalize() {
      return method.equals("POST") && path.startsWith("/finalize-order/") && hasPayload();
    }

    public boolean isOrderRead() {
      return method.equals("POST") && path.startsWith("/my-order/") && !hasPayload();
    }

    public boolean isAuthorizationRead() {
      return method.equals("POST") && path.startsWith("/authZ/") && !hasPayload();
    }
  }

  /** Changes Pebble's answer (or leaves it): returns the body to send, or null to keep it. */
  @FunctionalInterface
  public interface Quirk {
    String rewrite(Exchange exchange) throws IOException;
  }

  /** A whole answer: status, headers to set, body. */
  public record Reply(int status, Map<String, String> headers, String body) {}

  /**
   * Answers a request instead of Pebble (the exchange has status 0 and no body yet), or returns
   * null to forward it.
   */
  @FunctionalInterface
  public interface Interceptor {
    Reply intercept(Exchange request) throws IOException;
  }

  /** Replaces Pebble's whole answer (status, headers, body), or returns null to keep it. */
  @FunctionalInterface
  public interface Replacer {
    Reply replace(Exchange exchange) throws IOException;
  }

  /**
   * What the CA behind the proxy was asked so far: requests forwarded and the integral of requests
   * in flight at the CA over time (nanoseconds), for a mean between two snapshots.
   */
  public record Load(long requests, long inFlightNanos, long atNanos) {
    /** Requests forwarded since {@code before}, per certificate issued. */
    public double requestsPer(Load before, int certificates) {
      return (requests - before.requests) / (double) Math.max(1, certificates);
    }

    /** Requests in flight at the CA since {@code before}, on average over the time. */
    public double meanInFlightSince(Load before) {
      return (inFlightNanos - before.inFlightNanos)
          / (double) Math.max(1, atNanos - before.atNanos);
    }
  }

  /** What a request must hold while it is at the CA ({@link PebbleGuard}); none by default. */
  interface Gate {
    Gate OPEN = (method, path) -> () -> {};

    /** Holds what the request needs, or returns null when it waited too long. */
    Pass enter(String method, String path) throws InterruptedException;

    /** Released when the CA has answered. */
    interface Pass extends AutoCloseable {
      @Override
      void close();
    }
  }

  private static String problem(String type, String detail, int status) {
    ObjectNode p = JSON.createObjectNode();
    p.put("type", type);
    p.put("detail", detail + " (injected by FaultyAcmeProxy)");
    p.put("status", status);
    return p.toString();
  }

  /**
   * ACME-QUIRKS case 7: the first {@code count} newOrder requests answer {@code 429 rateLimited}
   * with {@code Retry-After: retryAfter} (delta-seconds or an HTTP-date).
   */
  public static Interceptor rateLimitNewOrders(
      int count, java.util.function.Supplier<String> retryAfter) {
    AtomicInteger left = new AtomicInteger(count);
    return request -> {
      if (!request.method().equals("POST")
          || !request.path().equals("/order-plz")
          || left.getAndDecrement() <= 0) {
        return null;
      }
      return new Reply(
          429,
          Map.of("Content-Type", "application/problem+json", "Retry-After", retryAfter.get()),
          problem("urn:ietf:params:acme:error:rateLimited", "too many new orders", 429));
    };
  }

  /** ACME-QUIRKS case 4: the first finalize of each order answers {@code orderNotReady}. */
  public static Interceptor finalizeAnswersOrderNotReadyOnce() {
    Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
    return request -> {
      if (!request.isFinalize() || !seen.add(request.path())) {
        return null;
      }
      return new Reply(
          403,
          Map.of("Content-Type", "application/problem+json"),
          problem("urn:ietf:params:acme:error:orderNotReady", "order not ready yet", 403));
    };
  }

  /**
   * A CA behind a failing gateway: the first trigger of each challenge reaches the CA, which acts
   * on it, but its answer is replaced by {@code 500} with an HTML page (no problem document).
   */
  public static Replacer challengeTriggerAnswers500AfterActing() {
    Set<String> answered = java.util.concurrent.ConcurrentHashMap.newKeySet();
    return exchange -> {
      if (!exchange.isChallengeTrigger() || exchange.status() >= 300) {
        return null;
      }
      if (!answered.add(exchange.path())) {
        return null;
      }
      return new Reply(
          500,
          Map.of("Content-Type", "text/html"),
          "<html><body><h1>500 Internal Server Error</h1>(injected by FaultyAcmeProxy)</body></html>");
    };
  }

  /**
   * The CA accepts each finalize and issues, but its answer is cut off halfway (a connection that
   * dropped mid-body, a proxy that truncated it).
   */
  public static Replacer finalizeAnswerCutOffHalfway() {
    return exchange -> {
      if (!exchange.isFinalize() || exchange.status() >= 300 || exchange.body() == null) {
        return null;
      }
      String body = exchange.body();
      return new Reply(exchange.status(), Map.of(), body.substring(0, body.length() / 2));
    };
  }

  /**
   * Every read of an authorization carries {@code Retry-After: onAuthorizations}, every read of an
   * order {@code Retry-After: onOrders}: values that are not one (negative, not a number, not an
   * HTTP date), as CAs have sent.
   */
  public static Replacer badRetryAfterOnReads(String onAuthorizations, String onOrders) {
    return exchange -> {
      if (exchange.status() != 200) {
        return null;
      }
      if (exchange.isAuthorizationRead()) {
        return new Reply(200, Map.of("Retry-After", onAuthorizations), exchange.body());
      }
      if (exchange.isOrderRead()) {
        return new Reply(200, Map.of("Retry-After", onOrders), exchange.body());
      }
      return null;
    };
  }

  /**
   * The first {@code reads} reads of each authorization after its challenge was triggered report
   * {@code status} (a value RFC 8555 does not define, such as {@code deferred}), the challenge
   * still {@code processing}.
   */
  public static Replacer authorizationStatusAfterTrigger(String status, int reads) {
    Map<String, Integer> seen = new java.util.concurrent.ConcurrentHashMap<>();
    Set<String> triggered = java.util.concurrent.ConcurrentHashMap.newKeySet();
    return exchange -> {
      if (exchange.isChallengeTrigger()) {
        triggered.add(exchange.path());
        return null;
      }
      if (!exchange.isAuthorizationRead() || exchange.status() != 200) {
        return null;
      }
      ObjectNode body = (ObjectNode) JSON.readTree(exchange.body());
      boolean afterTrigger = false;
      for (JsonNode c : body.withArray("challenges")) {
        if (triggered.contains(URI.create(c.path("url").asText()).getPath())) {
          afterTrigger = true;
          ((ObjectNode) c).put("status", "processing");
        }
      }
      if (!afterTrigger || seen.merge(exchange.path(), 1, Integer::sum) > reads) {
        return null;
      }
      body.put("status", status);
      return new Reply(200, Map.of(), body.toString());
    };
  }

  /**
   * ACME-QUIRKS case 2: for {@code duration} after a challenge is triggered, its authorization
   * reads as pending with the challenge {@code processing}, carrying an {@code error}, and a {@code
   * Retry-After: 1}.
   */
  public static Replacer challengeProcessingFor(Duration duration) {
    Map<String, Long> triggered = new java.util.concurrent.ConcurrentHashMap<>();
    return exchange -> {
      if (exchange.isChallengeTrigger()) {
        triggered.putIfAbsent(exchange.path(), System.nanoTime());
        return null;
      }
      if (!exchange.isAuthorizationRead() || exchange.status() != 200) {
        return null;
      }
      ObjectNode body = (ObjectNode) JSON.readTree(exchange.body());
      boolean held = false;
      for (JsonNode c : body.withArray("challenges")) {
        String path = URI.create(c.path("url").asText()).getPath();
        Long at = triggered.get(path);
        if (at != null && System.nanoTime() - at < duration.toNanos()) {
          ObjectNode challenge = (ObjectNode) c;
          challenge.put("status", "processing");
          ObjectNode error = challenge.putObject("error");
          error.put("type", "urn:ietf:params:acme:error:connection");
          error.put("detail", "still validating (injected by FaultyAcmeProxy)");
          held = true;
        }
      }
      if (!held) {
        return null;
      }
      body.put("status", "pending");
      return new Reply(200, Map.of("Retry-After", "1"), body.toString());
    };
  }

  /**
   * ACME-QUIRKS case 3: for {@code duration} after an order is finalized, it reads as {@code
   * processing} (no certificate yet) with a short {@code Retry-After: 1}.
   */
  public static Replacer orderProcessingFor(Duration duration) {
    Map<String, Long> finalized = new java.util.concurrent.ConcurrentHashMap<>();
    return exchange -> {
      if (exchange.isFinalize() && exchange.status() < 300) {
        finalized.putIfAbsent(
            exchange.path().substring("/finalize-order/".length()), System.nanoTime());
        return null;
      }
      if (!exchange.method().equals("POST")
          || !exchange.path().startsWith("/my-order/")
          || exchange.hasPayload()
          || exchange.status() != 200) {
        return null;
      }
      Long at = finalized.get(exchange.path().substring("/my-order/".length()));
      if (at == null || System.nanoTime() - at >= duration.toNanos()) {
        return null;
      }
      ObjectNode body = (ObjectNode) JSON.readTree(exchange.body());
      body.put("status", "processing");
      body.remove("certificate");
      return new Reply(200, Map.of("Retry-After", "1"), body.toString());
    };
  }

  /**
   * ACME-QUIRKS case 1 (Keyfactor): the answer to a challenge trigger says {@code invalid} with an
   * error, although the CA goes on validating and the authorization turns valid.
   */
  public static Quirk challengeTriggerAnswersInvalid() {
    return exchange -> {
      if (!exchange.isChallengeTrigger() || exchange.status() >= 300) {
        return null;
      }
      ObjectNode body = (ObjectNode) JSON.readTree(exchange.body());
      body.put("status", "invalid");
      ObjectNode error = body.putObject("error");
      error.put("type", "urn:ietf:params:acme:error:incorrectResponse");
      error.put(
          "detail", "validation failed (injected by FaultyAcmeProxy: the CA goes on validating)");
      error.put("status", 403);
      return body.toString();
    };
  }

  private final HttpsServer server;
  private final ExecutorService executor;
  private final HttpClient upstream;
  private final URI target;
  private final List<Quirk> quirks = new CopyOnWriteArrayList<>();
  private final List<Interceptor> interceptors = new CopyOnWriteArrayList<>();
  private final List<Replacer> replacers = new CopyOnWriteArrayList<>();
  private final AtomicInteger triggers = new AtomicInteger();
  private final AtomicInteger finalizes = new AtomicInteger();
  private final AtomicInteger triggerPosts = new AtomicInteger();
  private final Map<String, Integer> finalizesByOrder =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final AtomicInteger finalizePosts = new AtomicInteger();
  private final TlsMaterial tls;
  private final Gate gate;
  private long forwarded;
  private int inFlight;
  private long inFlightNanos;
  private long lastChange = System.nanoTime();

  private FaultyAcmeProxy(
      HttpsServer server,
      ExecutorService executor,
      HttpClient upstream,
      URI target,
      TlsMaterial tls,
      Gate gate) {
    this.server = server;
    this.executor = executor;
    this.upstream = upstream;
    this.target = target;
    this.tls = tls;
    this.gate = gate;
  }

  /** Starts a proxy on a free 127.0.0.1 port in front of {@code pebble}. */
  public static FaultyAcmeProxy start(PebbleServer pebble, Path workDir) {
    try {
      return start(
          "faulty acme proxy",
          pebble.directoryUrl().resolve("/"),
          pebble.trustPem(),
          TlsMaterial.generate(workDir),
          Gate.OPEN);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot start the ACME proxy: " + e, e);
    }
  }

  /**
   * A proxy to {@code target} (the root of an ACME server whose HTTPS certificate chains to {@code
   * trust}), serving HTTPS with {@code tls}, each request holding what {@code gate} gives it while
   * it is at the server.
   */
  static FaultyAcmeProxy start(String name, URI target, Path trust, TlsMaterial tls, Gate gate)
      throws IOException, GeneralSecurityException {
    // A port no other server of this process was promised (EmbeddedKafka.freePorts).
    HttpsServer server =
        dev.renewal.http.HttpServers.createHttps(
            new InetSocketAddress("127.0.0.1", dev.renewal.infra.kafka.EmbeddedKafka.freePort()),
            128);
    server.setHttpsConfigurator(new HttpsConfigurator(serverContext(tls)));
    // As many threads as requests in flight: a request waiting at the gate holds its thread,
    // and a fixed pool would cap the CA's concurrency below the client's.
    ExecutorService executor =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, name.replace(' ', '-'));
              t.setDaemon(true);
              return t;
            });
    HttpClient upstream =
        HttpClient.newBuilder()
            .sslContext(TrustedCertificates.sslContext(trust))
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    FaultyAcmeProxy proxy = new FaultyAcmeProxy(server, executor, upstream, target, tls, gate);
    server.createContext("/", proxy::handle);
    server.setExecutor(executor);
    server.start();
    LOGGER.info("{} listening: directory={} target={}", name, proxy.directoryUrl(), target);
    return proxy;
  }

  private static SSLContext serverContext(TlsMaterial tls)
      throws IOException, GeneralSecurityException {
    PrivateKey key;
    try (Reader in = Files.newBufferedReader(tls.serverKey(), StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(in)) {
      key = new JcaPEMKeyConverter().getPrivateKey((PrivateKeyInfo) parser.readObject());
    }
    Certificate cert;
    try (var in = Files.newInputStream(tls.serverCertificate())) {
      cert = CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    char[] password = "proxy".toCharArray();
    store.setKeyEntry("server", key, password, new Certificate[] {cert});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(store, password);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf.getKeyManagers(), null, null);
    return context;
  }

  /** Adds a misbehaviour; quirks apply in the order added, each to the previous one's output. */
  public FaultyAcmeProxy with(Quirk quirk) {
    quirks.add(quirk);
    return this;
  }

  /** Adds a request interceptor (answers instead of Pebble). */
  public FaultyAcmeProxy intercept(Interceptor interceptor) {
    interceptors.add(interceptor);
    return this;
  }

  /** Adds a response replacer (status, headers and body). */
  public FaultyAcmeProxy replace(Replacer replacer) {
    replacers.add(replacer);
    return this;
  }

  /** The directory URL clients use instead of Pebble's. */
  public URI directoryUrl() {
    return URI.create("https://127.0.0.1:" + server.getAddress().getPort() + "/dir");
  }

  /** The CA certificate clients must trust for the proxy's HTTPS. */
  public Path trustPem() {
    return tls.caCertificate();
  }

  /** What the CA was asked so far ({@link Load}). */
  public synchronized Load load() {
    inFlight(0);
    return new Load(forwarded, inFlightNanos, lastChange);
  }

  private synchronized void inFlight(int change) {
    long now = System.nanoTime();
    inFlightNanos += inFlight * (now - lastChange);
    lastChange = now;
    inFlight += change;
    if (change > 0) {
      forwarded++;
    }
  }

  /** Challenge triggers (signed POSTs with a payload to a challenge) Pebble accepted so far. */
  public int challengeTriggers() {
    return triggers.get();
  }

  /** Finalize requests Pebble accepted, per finalize URL path (one per order). */
  public Map<String, Integer> finalizesByOrder() {
    return Map.copyOf(finalizesByOrder);
  }

  /**
   * Every challenge trigger sent through the proxy, whatever Pebble answered, but for those it
   * refused for a bad nonce (retried inside acme4j, a protocol detail, not a second trigger).
   */
  public int challengeTriggerPosts() {
    return triggerPosts.get();
  }

  /** Every finalize sent through the proxy, likewise (bad-nonce refusals aside). */
  public int finalizePosts() {
    return finalizePosts.get();
  }

  /** Finalize requests (signed POSTs with a CSR to an order's finalize URL) Pebble accepted. */
  public int finalizes() {
    return finalizes.get();
  }

  private void handle(HttpExchange in) throws IOException {
    try (in) {
      byte[] requestBody = in.getRequestBody().readAllBytes();
      String path = in.getRequestURI().getRawPath();
      String query = in.getRequestURI().getRawQuery();
      HttpRequest.Builder out =
          HttpRequest.newBuilder(
                  URI.create(target + path.substring(1) + (query == null ? "" : "?" + query)))
              .timeout(Duration.ofSeconds(30))
              .method(in.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(requestBody));
      in.getRequestHeaders()
          .forEach(
              (name, values) -> {
                if (!HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT))) {
                  values.forEach(v -> out.header(name, v));
                }
              });
      out.header("Host", in.getRequestHeaders().getFirst("Host"));
      Exchange request =
          new Exchange(in.getRequestMethod(), path, payload(requestBody), 0, Map.of(), null);
      for (Interceptor interceptor : interceptors) {
        Reply reply = interceptor.intercept(request);
        if (reply != null) {
          countPost(request, reply.status(), reply.body());
          Map<String, String> headers = new java.util.HashMap<>(reply.headers());
          freshNonce(in.getRequestHeaders().getFirst("Host"))
              .ifPresent(n -> headers.put("Replay-Nonce", n));
          send(in, reply.status(), headers, reply.body());
          return;
        }
      }
      HttpResponse<byte[]> response;
      try (Gate.Pass pass = gate.enter(in.getRequestMethod(), path)) {
        if (pass == null) {
          LOGGER.warn("gave up waiting at the gate: path={}", path);
          send(
              in,
              503,
              Map.of("Content-Type", "application/problem+json", "Retry-After", "1"),
              problem(
                  "urn:ietf:params:acme:error:serverInternal",
                  "the test CA's guard waited too long",
                  503));
          return;
        }
        inFlight(1);
        try {
          response = upstream.send(out.build(), HttpResponse.BodyHandlers.ofByteArray());
        } finally {
          inFlight(-1);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        in.sendResponseHeaders(502, -1);
        return;
      } catch (IOException e) {
        LOGGER.warn("upstream failed: path={} error={}", path, e.toString());
        in.sendResponseHeaders(502, -1);
        return;
      }
      String body = new String(response.body(), StandardCharsets.UTF_8);
      Exchange exchange =
          new Exchange(
              in.getRequestMethod(),
              path,
              payload(requestBody),
              response.statusCode(),
              response.headers().map(),
              body);
      countPost(exchange, exchange.status(), body);
      // Counted only when Pebble accepted them: a badNonce answer is retried by the client.
      if (exchange.isChallengeTrigger() && exchange.status() < 300) {
        triggers.incrementAndGet();
      }
      if (exchange.isFinalize() && exchange.status() < 300) {
        finalizes.incrementAndGet();
        finalizesByOrder.merge(path, 1, Integer::sum);
      }
      String rewritten = body;
      for (Quirk quirk : quirks) {
        String changed =
            quirk.rewrite(
                new Exchange(
                    exchange.method(),
                    path,
                    exchange.jwsPayload(),
                    exchange.status(),
                    exchange.headers(),
                    rewritten));
        if (changed != null) {
          rewritten = changed;
        }
      }
      response
          .headers()
          .map()
          .forEach(
              (name, values) -> {
                if (!HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT)) && !name.startsWith(":")) {
                  in.getResponseHeaders().put(name, values);
                }
              });
      int status = response.statusCode();
      Map<String, String> extra = Map.of();
      for (Replacer replacer : replacers) {
        Reply reply =
            replacer.replace(
                new Exchange(
                    exchange.method(),
                    path,
                    exchange.jwsPayload(),
                    status,
                    exchange.headers(),
                    rewritten));
        if (reply != null) {
          status = reply.status();
          extra = reply.headers();
          rewritten = reply.body();
        }
      }
      send(in, status, extra, rewritten);
    }
  }

  /**
   * Counts a trigger or finalize that reached the CA as a request of the client's: not one the CA
   * refused for its nonce (acme4j sends it again with a fresh one, and so would any client).
   */
  private void countPost(Exchange exchange, int status, String body) {
    if (status == 400 && body != null && body.contains(":badNonce")) {
      return;
    }
    if (exchange.isChallengeTrigger()) {
      triggerPosts.incrementAndGet();
    }
    if (exchange.isFinalize()) {
      finalizePosts.incrementAndGet();
    }
  }

  private static void send(HttpExchange in, int status, Map<String, String> headers, String body)
      throws IOException {
    headers.forEach((k, v) -> in.getResponseHeaders().set(k, v));
    byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    in.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      try (OutputStream os = in.getResponseBody()) {
        os.write(bytes);
      }
    }
  }

  /** A fresh nonce from Pebble, for an answer the proxy makes itself. */
  private java.util.Optional<String> freshNonce(String host) {
    try {
      HttpResponse<Void> r =
          upstream.send(
              HttpRequest.newBuilder(URI.create(target + "nonce-plz"))
                  .method("HEAD", HttpRequest.BodyPublishers.noBody())
                  .header("Host", host)
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.discarding());
      return r.headers().firstValue("Replay-Nonce");
    } catch (IOException e) {
      return java.util.Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return java.util.Optional.empty();
    }
  }

  private static String payload(byte[] requestBody) {
    if (requestBody.length == 0) {
      return null;
    }
    try {
      JsonNode jws = JSON.readTree(requestBody);
      return jws.path("payload").asText(null);
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
