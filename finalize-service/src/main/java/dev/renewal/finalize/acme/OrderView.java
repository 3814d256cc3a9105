package dev.renewal.finalize.acme;

import dev.renewal.events.AcmeStatus;
import dev.renewal.events.Problem;
import java.time.Instant;
import java.util.Optional;

/** An order as just fetched: its status, its error, and the CA's Retry-After. */
public record OrderView(
    AcmeStatus status,
    Optional<String> rawStatus,
    Optional<Problem> error,
    Optional<Instant> retryAfter) {}
