package dev.renewal.infra.pebble;

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
 * (ACME-QUIRKS.md). It forwards every request with its {@code Host} header, so that Pebble builds
 * every URL for the proxy and checks each JWS {@code url} against it: nothing is rewritten but what
 * a {@link Quirk} changes. Needs {@code -Djdk.httpclient.allowRestrictedHeaders=host} at JVM start
 * (the launcher and the test JVMs set it).
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

    public boolean isAuthorizationRead() {
      return method.equals("POST") && path.startsWith("/authZ/") && !hasPayload();
    }
  }

  /** Changes Pebble's answer (or leaves it): returns the body to send, or null to keep it. */
  @FunctionalInterface
  public interface Quirk {
    String rewrite(Exchange exchange) throws IOException;
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
  private final AtomicInteger triggers = new AtomicInteger();
  private final AtomicInteger finalizes = new AtomicInteger();
  private final TlsMaterial tls;

  private FaultyAcmeProxy(
      HttpsServer server,
      ExecutorService executor,
      HttpClient upstream,
      URI target,
      TlsMaterial tls) {
    this.server = server;
    this.executor = executor;
    this.upstream = upstream;
    this.target = target;
    this.tls = tls;
  }

  /** Starts a proxy on a free 127.0.0.1 port in front of {@code pebble}. */
  public static FaultyAcmeProxy start(PebbleServer pebble, Path workDir) {
    try {
      TlsMaterial tls = TlsMaterial.generate(workDir);
      HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 128);
      server.setHttpsConfigurator(new HttpsConfigurator(serverContext(tls)));
      ExecutorService executor =
          Executors.newFixedThreadPool(
              8,
              r -> {
                Thread t = new Thread(r, "faulty-acme-proxy");
                t.setDaemon(true);
                return t;
              });
      HttpClient upstream =
          HttpClient.newBuilder()
              .sslContext(TrustedCertificates.sslContext(pebble.trustPem()))
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(5))
              .build();
      URI target = pebble.directoryUrl().resolve("/");
      FaultyAcmeProxy proxy = new FaultyAcmeProxy(server, executor, upstream, target, tls);
      server.createContext("/", proxy::handle);
      server.setExecutor(executor);
      server.start();
      LOGGER.info(
          "faulty acme proxy listening: directory={} target={}", proxy.directoryUrl(), target);
      return proxy;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot start the ACME proxy: " + e, e);
    }
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

  public void clearQuirks() {
    quirks.clear();
  }

  /** The directory URL clients use instead of Pebble's. */
  public URI directoryUrl() {
    return URI.create("https://127.0.0.1:" + server.getAddress().getPort() + "/dir");
  }

  /** The CA certificate clients must trust for the proxy's HTTPS. */
  public Path trustPem() {
    return tls.caCertificate();
  }

  /** Challenge triggers (signed POSTs with a payload to a challenge) seen so far. */
  public int challengeTriggers() {
    return triggers.get();
  }

  /** Finalize requests (signed POSTs with a CSR to an order's finalize URL) seen so far. */
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
      HttpResponse<byte[]> response;
      try {
        response = upstream.send(out.build(), HttpResponse.BodyHandlers.ofByteArray());
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
      if (exchange.isChallengeTrigger()) {
        triggers.incrementAndGet();
      }
      if (exchange.isFinalize()) {
        finalizes.incrementAndGet();
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
      byte[] bytes = rewritten.getBytes(StandardCharsets.UTF_8);
      in.sendResponseHeaders(response.statusCode(), bytes.length == 0 ? -1 : bytes.length);
      if (bytes.length > 0) {
        try (OutputStream os = in.getResponseBody()) {
          os.write(bytes);
        }
      }
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
