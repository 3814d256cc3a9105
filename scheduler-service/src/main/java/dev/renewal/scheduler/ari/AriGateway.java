package dev.renewal.scheduler.ari;

import dev.renewal.acme.CaProfile;
import java.time.Instant;
import java.util.Optional;

/** The scheduler's one CA call: a certificate's renewal information (RFC 9773). */
public interface AriGateway {
  /** A suggested window, the CA's explanation and its Retry-After. */
  record Answer(
      Instant windowStart,
      Instant windowEnd,
      String explanationUrl,
      Optional<Instant> retryAfter) {}

  /**
   * The renewal information of certificate {@code ariCertId}, or empty when the profile's directory
   * advertises no {@code renewalInfo}. Blocking; throws a {@link dev.renewal.acme.CaCallFailure}
   * for a failure of the CA, as every gateway does.
   */
  Optional<Answer> fetch(CaProfile profile, String ariCertId);
}
