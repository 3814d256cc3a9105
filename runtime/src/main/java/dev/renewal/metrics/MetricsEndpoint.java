package dev.renewal.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.renewal.config.Settings;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a service's metrics over HTTP: {@code GET /metrics} in the Prometheus text format, {@code
 * GET /health} answering {@code ok}. One thread of its own; never touches a consumer or the CA.
 */
public final class MetricsEndpoint implements AutoCloseable {
  private static final Logger LOGGER = LoggerFactory.getLogger(MetricsEndpoint.class);
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService executor;
  private final URI uri;

  private MetricsEndpoint(HttpServer server, ExecutorService executor, URI uri) {
    this.server = server;
    this.executor = executor;
    this.uri = uri;
  }

  /**
   * Where a service serves its metrics: keys {@code <prefix>.metrics.host} (default 127.0.0.1) and
   * {@code <prefix>.metrics.port} (default 0: any free port; -1: not served).
   */
  public record Address(String host, int port) {
    /** Reads the address; problems go to {@code r}. */
    public static Address read(Settings.Reader r, String prefix) {
      return new Address(
          r.string(prefix + ".metrics.host"), r.integer(prefix + ".metrics.port", -1, 65535));
    }
  }

  /**
   * Starts serving {@code metrics} at {@code address} unless its port is -1 (metrics then stay
   * in-process only).
   *
   * @return the endpoint, or null when disabled
   */
  public static MetricsEndpoint startUnlessDisabled(ServiceMetrics metrics, Address address) {
    return address.port() < 0 ? null : start(metrics, address.host(), address.port());
  }

  /**
   * Starts serving {@code metrics} on {@code host:port} (port 0: any free port).
   *
   * @throws UncheckedIOException if the address cannot be bound, naming it
   */
  public static MetricsEndpoint start(ServiceMetrics metrics, String host, int port) {
    HttpServer server;
    try {
      server = dev.renewal.http.HttpServers.create(new InetSocketAddress(host, port), 16);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot serve " + metrics.service() + "'s metrics on " + host + ":" + port + ": " + e, e);
    }
    ExecutorService executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, metrics.service() + "-metrics");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext(
        "/metrics", exchange -> answer(exchange, 200, PROMETHEUS_TEXT, () -> metrics.scrape()));
    server.createContext(
        "/health", exchange -> answer(exchange, 200, "text/plain; charset=utf-8", () -> "ok\n"));
    server.createContext(
        "/",
        exchange -> answer(exchange, 404, "text/plain; charset=utf-8", () -> "see /metrics\n"));
    server.start();
    int bound = server.getAddress().getPort();
    URI uri = URI.create("http://" + hostForUri(host) + ":" + bound + "/metrics");
    LOGGER.info("{} metrics at {}", metrics.service(), uri);
    return new MetricsEndpoint(server, executor, uri);
  }

  private static String hostForUri(String host) {
    if (host.equals("0.0.0.0") || host.equals("::")) {
      return "127.0.0.1";
    }
    return host.contains(":") ? "[" + host + "]" : host;
  }

  private interface Body {
    String get();
  }

  private static void answer(HttpExchange exchange, int status, String type, Body body)
      throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      byte[] bytes = body.get().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", type);
      if (method.equals("HEAD")) {
        exchange.sendResponseHeaders(status, -1);
        return;
      }
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  /** Where the metrics are served, e.g. {@code http://127.0.0.1:9401/metrics}. */
  public URI uri() {
    return uri;
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
