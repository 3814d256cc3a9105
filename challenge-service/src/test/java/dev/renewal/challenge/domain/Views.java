package dev.renewal.challenge.domain;

import dev.renewal.contract.RenewalFailures;
import dev.renewal.events.AcmeStatus;
import dev.renewal.events.Problem;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/** Authorizations and challenges as a CA would describe them, for the tests. */
public final class Views {
  private Views() {}

  /** An HTTP-01 challenge with token {@code tok7}; an invalid one carries the CA's error. */
  public static ChallengeView challenge(AcmeStatus status, String url) {
    Optional<Problem> error =
        status == AcmeStatus.INVALID
            ? Optional.of(
                RenewalFailures.problem(
                    "urn:ietf:params:acme:error:unauthorized", "the token was not found"))
            : Optional.empty();
    return new ChallengeView(
        url,
        status,
        Optional.of(status.toString().toLowerCase(Locale.ROOT)),
        error,
        "tok7",
        "tok7.thumb",
        Optional.empty());
  }

  /** The authorization of {@code shop.example}. */
  public static AuthorizationView authorization(
      String url,
      AcmeStatus status,
      Optional<ChallengeView> challenge,
      Optional<Instant> retryAfter) {
    return new AuthorizationView(
        url,
        status,
        Optional.of(status.toString().toLowerCase(Locale.ROOT)),
        "shop.example",
        false,
        Optional.empty(),
        retryAfter,
        challenge);
  }
}
