package dev.renewal.challenge.http01;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class Http01ResponderTest {
  private final Map<String, String> tokens = Map.of("tok_EN-1", "tok_EN-1.thumbprint");
  private Http01Responder responder;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    responder = Http01Responder.start("127.0.0.1", 0, t -> Optional.ofNullable(tokens.get(t)));
  }

  @AfterEach
  void stop() {
    responder.close();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + responder.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aKnownTokenIsAnsweredWithItsKeyAuthorizationAsPlainText() throws Exception {
    HttpResponse<String> r = get("/.well-known/acme-challenge/tok_EN-1");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("tok_EN-1.thumbprint");
    assertThat(r.headers().firstValue("Content-Type")).contains("text/plain");
    assertThat(responder.served()).isEqualTo(1);
  }

  @Test
  void anUnknownTokenAndEveryOtherPathAre404() throws Exception {
    for (String path :
        List.of(
            "/.well-known/acme-challenge/unknown",
            "/.well-known/acme-challenge/",
            "/.well-known/acme-challenge/tok_EN-1/extra",
            "/.well-known/acme-challenge/..%2F..%2Fetc%2Fpasswd",
            "/.well-known/acme-challenge/tok_EN-1?x=1",
            "/",
            "/etc/passwd")) {
      assertThat(get(path).statusCode()).as(path).isEqualTo(404);
    }
  }

  @Test
  void aRawTraversalRequestLineIsNotServed() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", responder.port())) {
      OutputStream out = socket.getOutputStream();
      out.write(
          "GET /.well-known/acme-challenge/../../tok_EN-1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      String answer = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
      assertThat(answer).startsWith("HTTP/1.1 404").doesNotContain("thumbprint");
    }
  }

  @Test
  void onlyGetAndHeadAreAllowed() throws Exception {
    HttpResponse<String> post =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:"
                            + responder.port()
                            + "/.well-known/acme-challenge/tok_EN-1"))
                .POST(HttpRequest.BodyPublishers.ofString("x"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
    HttpResponse<String> head =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:"
                            + responder.port()
                            + "/.well-known/acme-challenge/tok_EN-1"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
  }

  @Test
  void concurrentRequestsAreAllAnswered() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      all.add(
          http.sendAsync(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://127.0.0.1:"
                              + responder.port()
                              + "/.well-known/acme-challenge/tok_EN-1"))
                  .build(),
              HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> f : all) {
      assertThat(f.get().body()).isEqualTo("tok_EN-1.thumbprint");
    }
    assertThat(responder.served()).isEqualTo(60);
  }
}
