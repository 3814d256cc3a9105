package dev.renewal.challenge.domain;

import dev.renewal.events.AcmeStatus;
import dev.renewal.events.Problem;
import java.util.Optional;

/**
 * A challenge as the CA described it, in plain values.
 *
 * @param token the challenge token
 * @param response what must be served: the key authorization (HTTP-01) or the TXT digest (DNS-01)
 * @param recordName for DNS-01, the TXT record name ({@code _acme-challenge.<name>.})
 */
public record ChallengeView(
    String url,
    AcmeStatus status,
    Optional<String> rawStatus,
    Optional<Problem> error,
    String token,
    String response,
    Optional<String> recordName) {}
