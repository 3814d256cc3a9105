package dev.renewal.acme;

import dev.renewal.events.AcmeStatus;
import java.util.Locale;
import java.util.Optional;
import org.shredzone.acme4j.AcmeJsonResource;

/** ACME status values as the events carry them: the enum, and the CA's literal text. */
public final class Statuses {
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

  /** The {@code status} text of a resource as last fetched, if it had one. */
  public static Optional<String> raw(AcmeJsonResource resource) {
    return resource.getJSON().get("status").map(v -> v.asString());
  }
}
