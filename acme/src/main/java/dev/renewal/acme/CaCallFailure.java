package dev.renewal.acme;

import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.util.Optional;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeServerException;

/**
 * A call to a CA failed. The cause is acme4j's exception, which {@link AcmeFailure#classify}
 * understands. Unchecked, so that gateway calls can run as pacer suppliers.
 */
public final class CaCallFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CaCallFailure(AcmeException cause) {
    super(cause.getMessage(), cause);
  }

  /** The CA's problem type, if it sent one. */
  public Optional<String> problemType() {
    return getCause() instanceof AcmeServerException s
        ? Optional.of(s.getType().toString())
        : Optional.empty();
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
