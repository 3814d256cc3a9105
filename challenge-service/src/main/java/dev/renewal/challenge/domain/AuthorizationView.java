package dev.renewal.challenge.domain;

import dev.renewal.events.AcmeStatus;
import java.time.Instant;
import java.util.Optional;

/**
 * An authorization as just fetched, with the challenge of the requested type if the CA offers it.
 *
 * @param retryAfter the CA's Retry-After on this fetch, if any
 */
public record AuthorizationView(
    String url,
    AcmeStatus status,
    Optional<String> rawStatus,
    String identifier,
    boolean wildcard,
    Optional<Instant> expires,
    Optional<Instant> retryAfter,
    Optional<ChallengeView> challenge) {}
