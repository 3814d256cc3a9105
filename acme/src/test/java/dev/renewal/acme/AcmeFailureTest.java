package dev.renewal.acme;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URL;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.shredzone.acme4j.Problem;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeNetworkException;
import org.shredzone.acme4j.exception.AcmeProtocolException;
import org.shredzone.acme4j.exception.AcmeRateLimitedException;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.shredzone.acme4j.toolbox.JSON;

class AcmeFailureTest {
  static Problem problem(String json) throws Exception {
    return new Problem(JSON.parse(json), new URL("https://ca.example/acme/order/1"));
  }

  @Test
  void rateLimitedKeepsTheRetryAfterAndTheProblem() throws Exception {
    Instant at = Instant.parse("2026-11-27T01:00:00Z");
    AcmeFailure f =
        AcmeFailure.classify(
            new AcmeRateLimitedException(
                problem(
                    "{\"type\":\"urn:ietf:params:acme:error:rateLimited\",\"detail\":\"too many\",\"status\":429}"),
                at,
                List.of()));
    assertThat(f.kind()).isEqualTo(AcmeFailure.Kind.RATE_LIMITED);
    assertThat(f.retryAfter()).contains(at);
    assertThat(f.problem().getType()).isEqualTo("urn:ietf:params:acme:error:rateLimited");
    assertThat(f.problem().getStatus()).isEqualTo(429);
  }

  @Test
  void aCaRefusalIsTerminalWithItsProblemDocumentAndSubproblems() throws Exception {
    AcmeFailure f =
        AcmeFailure.classify(
            new AcmeServerException(
                problem(
                    "{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\",\"detail\":\"no\",\"status\":400,"
                        + "\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\","
                        + "\"detail\":\"blocked\",\"identifier\":{\"type\":\"dns\",\"value\":\"bad.example\"}}]}")));
    assertThat(f.kind()).isEqualTo(AcmeFailure.Kind.TERMINAL);
    assertThat(f.problem().getDetail()).isEqualTo("no");
    assertThat(f.problem().getSubproblems()).hasSize(1);
    assertThat(f.problem().getSubproblems().get(0).getIdentifier()).isEqualTo("bad.example");
  }

  @Test
  void serverErrorsAreTransient() throws Exception {
    assertThat(
            AcmeFailure.classify(
                    new AcmeServerException(
                        problem(
                            "{\"type\":\"urn:ietf:params:acme:error:serverInternal\",\"status\":500}")))
                .kind())
        .isEqualTo(AcmeFailure.Kind.TRANSIENT);
    assertThat(
            AcmeFailure.classify(
                    new AcmeServerException(problem("{\"type\":\"about:blank\",\"status\":503}")))
                .kind())
        .isEqualTo(AcmeFailure.Kind.TRANSIENT);
  }

  @Test
  void networkProtocolAndPlainErrorsAreTransientAndFoundInsideWrappers() {
    AcmeFailure network =
        AcmeFailure.classify(
            new CompletionException(
                new RuntimeException(new AcmeNetworkException(new IOException("reset")))));
    assertThat(network.kind()).isEqualTo(AcmeFailure.Kind.TRANSIENT);
    assertThat(network.problem().getType()).isEqualTo(AcmeFailure.NETWORK);
    assertThat(AcmeFailure.classify(new AcmeProtocolException("bad json")).problem().getType())
        .isEqualTo(AcmeFailure.PROTOCOL);
    assertThat(AcmeFailure.classify(new AcmeException("HTTP 502")).kind())
        .isEqualTo(AcmeFailure.Kind.TRANSIENT);
    assertThat(AcmeFailure.classify(new AcmeException("HTTP 502")).retryAfter())
        .isEqualTo(Optional.empty());
  }

  @Test
  void aMalformedAnswerThrownWithItsParseErrorIsTransientNotOurBug() {
    // What acme4j throws for "Retry-After: -5" or "Retry-After: abc", wrapped as gateways do.
    AcmeFailure failure =
        AcmeFailure.classify(
            new CaCallFailureWrapper(
                new AcmeProtocolException(
                    "Bad retry-after header value: abc",
                    new java.time.format.DateTimeParseException("abc", "abc", 0))));
    assertThat(failure.kind()).isEqualTo(AcmeFailure.Kind.TRANSIENT);
    assertThat(failure.problem().getType()).isEqualTo(AcmeFailure.PROTOCOL);
    assertThat(failure.problem().getDetail()).contains("Bad retry-after header value: abc");
  }

  /** A RuntimeException around the real one, as a pacer's future delivers it. */
  private static final class CaCallFailureWrapper extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CaCallFailureWrapper(Throwable cause) {
      super(cause);
    }
  }

  @Test
  void aFailureThatIsNotAboutTheCaIsTerminalAndInternal() {
    AcmeFailure f =
        AcmeFailure.classify(
            new RuntimeException(new IllegalArgumentException("Invalid key sizes")));
    assertThat(f.kind()).isEqualTo(AcmeFailure.Kind.TERMINAL);
    assertThat(f.problem().getType()).isEqualTo(AcmeFailure.INTERNAL);
    assertThat(f.problem().getDetail()).contains("Invalid key sizes");
  }

  @Test
  void statusTextsMapToTheEnumAndUnknownOnesToUnknown() {
    assertThat(Statuses.of("valid")).hasToString("VALID");
    assertThat(Statuses.of("PROCESSING")).hasToString("PROCESSING");
    assertThat(Statuses.of("on-hold")).hasToString("UNKNOWN");
    assertThat(Statuses.of("timed_out"))
        .as("only the pipeline says TIMED_OUT")
        .hasToString("UNKNOWN");
    assertThat(Statuses.of(null)).hasToString("UNKNOWN");
  }
}
