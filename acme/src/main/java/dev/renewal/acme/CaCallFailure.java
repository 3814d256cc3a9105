package dev.renewal.acme;

import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import org.shredzone.acme4j.exception.AcmeException;

/**
 * A call to a CA failed. The cause is acme4j's exception, which {@link AcmeFailure#classify}
 * understands. Unchecked, so that gateway calls can run as pacer suppliers.
 */
public final class CaCallFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CaCallFailure(AcmeException cause) {
    super(cause.getMessage(), cause);
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
