package dev.renewal.acme;

import dev.renewal.events.AcmeStatus;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import org.shredzone.acme4j.AcmeJsonResource;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeProtocolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** ACME status values as the events carry them: the enum, and the CA's literal text. */
public final class Statuses {
  private static final Logger LOGGER = LoggerFactory.getLogger(Statuses.class);

  private Statuses() {}

  /** Any status text, including ones this version does not know (→ UNKNOWN). */
  public static AcmeStatus of(String raw) {
    if (raw == null) {
      return AcmeStatus.UNKNOWN;
    }
    try {
      AcmeStatus s = AcmeStatus.valueOf(raw.trim().toUpperCase(Locale.ROOT));
      return s == AcmeStatus.TIMED_OUT ? AcmeStatus.UNKNOWN : s;
    } catch (IllegalArgumentException e) {
      return AcmeStatus.UNKNOWN;
    }
  }

  /**
   * {@code resource.fetch()}: the resource as the CA describes it now, and the CA's Retry-After. A
   * Retry-After the CA mangled (negative, neither seconds nor an HTTP date) is ignored and our own
   * back-off applies: acme4j parses it after the body, so the answer itself is good, and a header
   * that only advises when to ask again must not cost the request.
   */
  public static Optional<Instant> fetch(AcmeJsonResource resource) throws AcmeException {
    try {
      return resource.fetch();
    } catch (AcmeProtocolException e) {
      if (String.valueOf(e.getMessage()).startsWith(BAD_RETRY_AFTER)) {
        LOGGER.warn(
            "the CA sent a Retry-After that is not one, ignored: resource={} {}",
            resource.getLocation(),
            Text.escaped(e.getMessage()));
        return Optional.empty();
      }
      throw e;
    }
  }

  /** How acme4j 4.0 begins the message of a Retry-After it cannot parse. */
  private static final String BAD_RETRY_AFTER = "Bad retry-after header value";

  /** The {@code status} text of a resource as last fetched, if it had one. */
  public static Optional<String> raw(AcmeJsonResource resource) {
    return resource.getJSON().get("status").map(v -> v.asString());
  }
}
