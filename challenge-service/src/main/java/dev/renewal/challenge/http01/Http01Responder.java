package dev.renewal.challenge.http01;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers {@code GET /.well-known/acme-challenge/<token>} with the key authorization, as RFC 8555
 * section 8.3 asks: {@code text/plain}, nothing else. Only that exact path shape is served, with a
 * token of base64url characters (no traversal, no other files); an unknown token is 404; any method
 * but GET and HEAD is 405. Handles concurrent requests (Pebble fetches each token three times at
 * once).
 */
public final class Http01Responder implements AutoCloseable {
  private static final Logger LOGGER = LoggerFactory.getLogger(Http01Responder.class);
  public static final String PREFIX = "/.well-known/acme-challenge/";
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{1,256}");

  private final HttpServer server;
  private final ExecutorService executor;
  private final Function<String, Optional<String>> tokens;
  private final AtomicLong served = new AtomicLong();
  private final AtomicLong notFound = new AtomicLong();

  private Http01Responder(
      HttpServer server, ExecutorService executor, Function<String, Optional<String>> tokens) {
    this.server = server;
    this.executor = executor;
    this.tokens = tokens;
  }

  /**
   * Serves the key authorizations that {@code tokens} knows on {@code host}:{@code port}.
   *
   * @throws IOException if the address cannot be bound
   */
  public static Http01Responder start(
      String host, int port, Function<String, Optional<String>> tokens) throws IOException {
    HttpServer server = dev.renewal.http.HttpServers.create(new InetSocketAddress(host, port), 128);
    ExecutorService executor =
        Executors.newFixedThreadPool(
            8,
            r -> {
              Thread t = new Thread(r, "http01-responder");
              t.setDaemon(true);
              return t;
            });
    Http01Responder responder = new Http01Responder(server, executor, tokens);
    server.createContext("/", responder::handle);
    server.setExecutor(executor);
    server.start();
    LOGGER.info("http-01 responder listening: address={}:{}", host, responder.port());
    return responder;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** Tokens answered, and requests answered 404, since start. */
  public long served() {
    return served.get();
  }

  public long notFound() {
    return notFound.get();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      String path = exchange.getRequestURI().getRawPath();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        send(exchange, 405, "method not allowed\n", method);
        return;
      }
      Optional<String> keyAuthorization = Optional.empty();
      if (path.startsWith(PREFIX) && exchange.getRequestURI().getRawQuery() == null) {
        String token = path.substring(PREFIX.length());
        if (TOKEN.matcher(token).matches()) {
          keyAuthorization = tokens.apply(token);
        }
      }
      if (keyAuthorization.isEmpty()) {
        notFound.incrementAndGet();
        send(exchange, 404, "not found\n", method);
        return;
      }
      served.incrementAndGet();
      send(exchange, 200, keyAuthorization.get(), method);
    }
  }

  private static void send(HttpExchange exchange, int status, String body, String method)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.US_ASCII);
    exchange.getResponseHeaders().set("Content-Type", "text/plain");
    if (method.equals("HEAD")) {
      exchange.sendResponseHeaders(status, -1);
      return;
    }
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    LOGGER.info("http-01 responder stopped: served={} notFound={}", served.get(), notFound.get());
    executor.shutdown();
    try {
      executor.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
