package dev.renewal.acme;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A CA the operator configured. A request names a profile; it can never name a URL, so the pipeline
 * fetches nothing a message tells it to.
 *
 * @param name the name requests use
 * @param directoryUrl the ACME directory
 * @param trustPem a CA certificate (PEM) to trust for this CA's HTTPS, for private CAs; empty uses
 *     the JVM's trust store
 * @param eabKeyId external account binding key id, if the CA requires EAB
 * @param eabHmacKey external account binding HMAC key (base64url), if the CA requires EAB
 * @param contacts account contact URIs, e.g. {@code mailto:ops@example.com}
 * @param termsAgreed the operator agrees to the CA's terms of service
 * @param maxInFlight at most this many requests to this CA at once, per service instance
 * @param maxRequestsPerSecond at most this many ACME operations per second, per service instance
 * @param httpTimeout timeout of one HTTP request to the CA
 * @param retry how transient failures (network, 5xx, 429) are retried
 * @param authorizationDeadline how long an authorization may stay pending before it is TIMED_OUT
 * @param orderDeadline how long an order may stay processing after finalize before it fails
 */
public record CaProfile(
    String name,
    URI directoryUrl,
    Optional<Path> trustPem,
    Optional<String> eabKeyId,
    Optional<String> eabHmacKey,
    List<String> contacts,
    boolean termsAgreed,
    int maxInFlight,
    double maxRequestsPerSecond,
    Duration httpTimeout,
    RetryPolicy retry,
    Duration authorizationDeadline,
    Duration orderDeadline) {

  public CaProfile {
    contacts = List.copyOf(contacts);
  }

  /** True when the CA requires external account binding for this profile. */
  public boolean usesEab() {
    return eabKeyId.isPresent();
  }
}
