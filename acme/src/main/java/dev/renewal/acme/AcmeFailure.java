package dev.renewal.acme;

import dev.renewal.events.Problem;
import dev.renewal.events.Subproblem;
import java.time.Instant;
import java.util.Optional;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeNetworkException;
import org.shredzone.acme4j.exception.AcmeProtocolException;
import org.shredzone.acme4j.exception.AcmeRateLimitedException;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.shredzone.acme4j.exception.AcmeUserActionRequiredException;

/**
 * What went wrong talking to a CA, classified in one place (as cert-manager does): RATE_LIMITED
 * (429, wait the Retry-After), TRANSIENT (network, 5xx, {@code serverInternal}, a malformed answer:
 * back off and retry), TERMINAL (the CA said no: a business fact, reported with its problem
 * document). acme4j already retries {@code badNonce} itself.
 */
public record AcmeFailure(Kind kind, Optional<Instant> retryAfter, Problem problem) {

  /** How to react. */
  public enum Kind {
    RATE_LIMITED,
    TRANSIENT,
    TERMINAL;

    public boolean retryable() {
      return this != TERMINAL;
    }
  }

  /** Problem type for failures the pipeline describes itself (no problem document from the CA). */
  public static final String NETWORK = "urn:renewal:problem:network";

  /** Problem type when the CA's answer could not be understood. */
  public static final String PROTOCOL = "urn:renewal:problem:protocol";

  /**
   * Problem type for a failure on our side that is not about the CA (a key that cannot be made or
   * read, a bug): retrying will not help, an operator must look.
   */
  public static final String INTERNAL = "urn:renewal:problem:internal";

  public static AcmeFailure classify(Throwable error) {
    AcmeFailure failure = classifyCause(error);
    if (failure.kind() == Kind.TRANSIENT && failure.retryAfter().isEmpty()) {
      // A 5xx's Retry-After, which acme4j drops (ServerErrorRetryAfter): honoured as on a 429.
      Optional<Instant> told = serverRetryAfter(error);
      if (told.isPresent()) {
        return new AcmeFailure(failure.kind(), told, failure.problem());
      }
    }
    return failure;
  }

  private static Optional<Instant> serverRetryAfter(Throwable error) {
    for (Throwable e = error; e != null; e = e.getCause() == e ? null : e.getCause()) {
      if (e instanceof CaCallFailure c && c.serverRetryAfter().isPresent()) {
        return c.serverRetryAfter();
      }
    }
    return Optional.empty();
  }

  private static AcmeFailure classifyCause(Throwable error) {
    Throwable e = error;
    // acme4j's AcmeProtocolException (an answer that breaks the protocol: a bad Retry-After, a
    // body cut off, HTML where JSON was due) is a RuntimeException thrown with a cause, the parse
    // error: the walk stops at it, or a malformed answer of the CA would read as our own bug.
    while (!(e instanceof AcmeException)
        && !(e instanceof AcmeProtocolException)
        && e.getCause() != null
        && e != e.getCause()) {
      e = e.getCause();
    }
    if (e instanceof AcmeRateLimitedException rate) {
      return new AcmeFailure(Kind.RATE_LIMITED, rate.getRetryAfter(), problem(rate.getProblem()));
    }
    if (e instanceof AcmeUserActionRequiredException user) {
      Problem p = problem(user.getProblem());
      p.setInstance(user.getInstance().toString());
      return new AcmeFailure(Kind.TERMINAL, Optional.empty(), p);
    }
    if (e instanceof AcmeServerException server) {
      Problem p = problem(server.getProblem());
      boolean serverSide =
          (p.getStatus() != null && p.getStatus() >= 500)
              || p.getType().endsWith(":serverInternal")
              || p.getType().endsWith(":badNonce");
      return new AcmeFailure(serverSide ? Kind.TRANSIENT : Kind.TERMINAL, Optional.empty(), p);
    }
    if (e instanceof AcmeNetworkException) {
      return new AcmeFailure(Kind.TRANSIENT, Optional.empty(), simple(NETWORK, "network error", e));
    }
    if (e instanceof AcmeProtocolException) {
      return new AcmeFailure(
          Kind.TRANSIENT, Optional.empty(), simple(PROTOCOL, "unexpected answer", e));
    }
    if (e instanceof AcmeException) {
      // A plain AcmeException: acme4j's "HTTP 5xx" without a problem body, and the like.
      return new AcmeFailure(Kind.TRANSIENT, Optional.empty(), simple(PROTOCOL, "CA error", e));
    }
    return new AcmeFailure(
        Kind.TERMINAL, Optional.empty(), simple(INTERNAL, "internal error", error));
  }

  private static Problem simple(String type, String title, Throwable e) {
    return Problem.newBuilder()
        .setType(type)
        .setTitle(title)
        .setDetail(String.valueOf(e.getMessage()))
        .build();
  }

  /** An acme4j problem document as an event field. */
  public static Problem problem(org.shredzone.acme4j.Problem p) {
    Problem.Builder b =
        Problem.newBuilder()
            .setType(p.getType().toString())
            .setTitle(p.getTitle().orElse(null))
            .setDetail(p.getDetail().orElse(null))
            .setInstance(p.getInstance().map(Object::toString).orElse(null))
            .setIdentifier(p.getIdentifier().map(i -> i.getValue()).orElse(null))
            .setStatus(p.asJSON().get("status").map(v -> v.asInt()).orElse(null));
    b.setSubproblems(
        p.getSubProblems().stream()
            .map(
                s ->
                    Subproblem.newBuilder()
                        .setType(s.getType().toString())
                        .setDetail(s.getDetail().orElse(null))
                        .setIdentifier(s.getIdentifier().map(i -> i.getValue()).orElse(null))
                        .build())
            .toList());
    return b.build();
  }
}
