package dev.renewal.acme;

import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.time.Instant;
import java.util.Optional;
import org.shredzone.acme4j.exception.AcmeException;

/**
 * A call to a CA failed. Gateways throw it around acme4j's exception (unchecked, so that gateway
 * calls can run as pacer suppliers); {@link CaCalls} completes a call's future with it once the
 * call gives up, then with the failure classified ({@link #failure()}). The one exception of a CA
 * call: the cause says what happened, {@link AcmeFailure} says what it means.
 */
public class CaCallFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final transient AcmeFailure failure;
  private final transient Optional<Instant> serverRetryAfter;

  /** Wraps what acme4j threw, on the thread that made the call. */
  public CaCallFailure(AcmeException cause) {
    super(cause.getMessage(), cause);
    this.failure = null;
    this.serverRetryAfter = ServerErrorRetryAfter.take();
  }

  protected CaCallFailure(String message, Throwable cause, AcmeFailure failure) {
    super(message, cause);
    this.failure = failure;
    this.serverRetryAfter = Optional.empty();
  }

  /** For a failure of a step that names it (the account step), on the thread of the call. */
  protected CaCallFailure(String message, Throwable cause) {
    super(message, cause);
    this.failure = null;
    this.serverRetryAfter = ServerErrorRetryAfter.take();
  }

  /** The Retry-After of the 5xx answer that failed the call, which acme4j does not report. */
  Optional<Instant> serverRetryAfter() {
    return serverRetryAfter;
  }

  /** The call gave up with {@code failure}: it was terminal, or the retry budget is spent. */
  static CaCallFailure gaveUp(AcmeFailure failure, Throwable cause) {
    return new CaCallFailure(failure.problem().getType(), cause, failure);
  }

  /** What the failure means (classified now if the call did not give up through CaCalls). */
  public AcmeFailure failure() {
    return failure != null ? failure : AcmeFailure.classify(this);
  }

  /** The failure of a CA call, as a future delivers it (possibly wrapped). */
  public static CaCallFailure of(Throwable error) {
    Throwable e = CaCalls.unwrap(error);
    if (e instanceof CaCallFailure c && c.failure != null) {
      return c;
    }
    return gaveUp(AcmeFailure.classify(e), e);
  }

  /** A location URL from an event, as acme4j wants it. */
  public static URL url(String text) {
    try {
      return URI.create(text).toURL();
    } catch (MalformedURLException | IllegalArgumentException e) {
      throw new IllegalArgumentException("not a URL: " + text, e);
    }
  }
}
