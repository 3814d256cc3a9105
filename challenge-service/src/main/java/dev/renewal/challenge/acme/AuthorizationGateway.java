package dev.renewal.challenge.acme;

import dev.renewal.acme.CaProfile;
import dev.renewal.challenge.domain.AuthorizationView;
import dev.renewal.challenge.domain.ChallengeView;
import dev.renewal.events.ChallengeType;

/**
 * What challenge-service asks of a CA. Implementations block (HTTP calls): call them only from a
 * worker, never from a consumer thread.
 */
public interface AuthorizationGateway {

  /** POST-as-GET of the authorization: the authoritative view (RFC 8555 section 7.5.1). */
  AuthorizationView fetch(CaProfile profile, String authorizationUrl, ChallengeType type);

  /** Tells the CA to validate the challenge; returns the challenge as the CA answered. */
  ChallengeView trigger(CaProfile profile, String challengeUrl, ChallengeType type);
}
