package dev.renewal.acme;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.shredzone.acme4j.exception.AcmeException;

/** A 5xx's Retry-After, which acme4j drops, is remembered and honoured like a 429's. */
class ServerErrorRetryAfterTest {
  private HttpServer server;
  private final AtomicReference<String> answer = new AtomicReference<>();
  private final AtomicReference<Integer> status = new AtomicReference<>(503);
  private final HttpClient client = new ServerErrorRetryAfter(HttpClient.newHttpClient());

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          if (answer.get() != null) {
            exchange.getResponseHeaders().set("Retry-After", answer.get());
          }
          exchange.sendResponseHeaders(status.get(), -1);
          exchange.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private void call() throws Exception {
    client.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getAddress().getPort()))
            .build(),
        HttpResponse.BodyHandlers.discarding());
  }

  @Test
  void aServiceUnavailableWithRetryAfterInSecondsIsRetriedWhenTheCaSaid() throws Exception {
    answer.set("7");
    call();
    AcmeFailure failure =
        AcmeFailure.classify(
            new RuntimeException(new CaCallFailure(new AcmeException("HTTP 503"))));
    assertThat(failure.kind()).isEqualTo(AcmeFailure.Kind.TRANSIENT);
    assertThat(failure.retryAfter()).isPresent();
    assertThat(Duration.between(Instant.now(), failure.retryAfter().get()))
        .isBetween(Duration.ofSeconds(5), Duration.ofSeconds(8));
  }

  @Test
  void aRetryAfterThatIsNotOneOrNotOnA5xxIsNotTaken() throws Exception {
    answer.set("-5");
    call();
    assertThat(ServerErrorRetryAfter.take()).isEmpty();
    answer.set("3");
    status.set(200);
    call();
    assertThat(ServerErrorRetryAfter.take()).isEmpty();
    assertThat(
            ServerErrorRetryAfter.parse("Wed, 21 Oct 2026 07:28:00 GMT", Instant.EPOCH)
                .orElseThrow())
        .isEqualTo(Instant.parse("2026-10-21T07:28:00Z"));
    assertThat(ServerErrorRetryAfter.parse("abc", Instant.EPOCH)).isEmpty();
  }
}
