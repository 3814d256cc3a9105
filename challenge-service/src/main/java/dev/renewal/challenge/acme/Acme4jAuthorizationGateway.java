package dev.renewal.challenge.acme;

import dev.renewal.acme.AccountStore;
import dev.renewal.acme.AcmeFailure;
import dev.renewal.acme.AcmeSessions;
import dev.renewal.acme.CaCallFailure;
import dev.renewal.acme.CaProfile;
import dev.renewal.acme.Statuses;
import dev.renewal.challenge.domain.AuthorizationView;
import dev.renewal.challenge.domain.ChallengeView;
import dev.renewal.events.ChallengeType;
import java.util.Optional;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.challenge.Challenge;
import org.shredzone.acme4j.challenge.Dns01Challenge;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.challenge.TokenChallenge;
import org.shredzone.acme4j.exception.AcmeException;

/** {@link AuthorizationGateway} with acme4j: one Session per worker thread and profile. */
public final class Acme4jAuthorizationGateway implements AuthorizationGateway {
  private final AcmeSessions sessions;
  private final AccountStore accounts;

  public Acme4jAuthorizationGateway(AcmeSessions sessions, AccountStore accounts) {
    this.sessions = sessions;
    this.accounts = accounts;
  }

  private Login login(CaProfile profile) {
    return accounts.existingLogin(profile, sessions.session(profile));
  }

  @Override
  public AuthorizationView fetch(CaProfile profile, String authorizationUrl, ChallengeType type) {
    Login login = login(profile);
    try {
      Authorization auth = login.bindAuthorization(CaCallFailure.url(authorizationUrl));
      Optional<java.time.Instant> retryAfter = Statuses.fetch(auth);
      String identifier = auth.getIdentifier().getDomain();
      Optional<ChallengeView> challenge = find(auth, type).map(c -> view(c, identifier, type));
      Optional<String> raw = Statuses.raw(auth);
      return new AuthorizationView(
          authorizationUrl,
          Statuses.of(raw.orElse(null)),
          raw,
          identifier,
          auth.isWildcard(),
          auth.getExpires(),
          retryAfter,
          challenge);
    } catch (AcmeException e) {
      throw new CaCallFailure(e);
    }
  }

  @Override
  public ChallengeView trigger(CaProfile profile, String challengeUrl, ChallengeType type) {
    Login login = login(profile);
    // One POST, as Challenge.trigger() sends it, without bindChallenge's fetch before it: the
    // CA's answer is the challenge, which is all the view needs.
    try (org.shredzone.acme4j.connector.Connection conn = login.getSession().connect()) {
      conn.sendSignedRequest(
          CaCallFailure.url(challengeUrl), new org.shredzone.acme4j.toolbox.JSONBuilder(), login);
      Challenge challenge = login.createChallenge(conn.readJsonResponse());
      return view((TokenChallenge) challenge, null, type);
    } catch (AcmeException e) {
      throw new CaCallFailure(e);
    }
  }

  private static Optional<? extends TokenChallenge> find(Authorization auth, ChallengeType type) {
    return switch (type) {
      case HTTP_01 -> auth.findChallenge(Http01Challenge.class);
      case DNS_01 -> auth.findChallenge(Dns01Challenge.class);
      default -> Optional.empty();
    };
  }

  private static ChallengeView view(TokenChallenge c, String identifier, ChallengeType type) {
    Optional<String> raw = Statuses.raw(c);
    String response = c instanceof Dns01Challenge dns ? dns.getDigest() : c.getAuthorization();
    Optional<String> recordName =
        c instanceof Dns01Challenge dns && identifier != null
            ? Optional.of(dns.getRRName(identifier))
            : Optional.empty();
    String token = c.getJSON().get("token").asString();
    return new ChallengeView(
        c.getLocation().toString(),
        Statuses.of(raw.orElse(null)),
        raw,
        c.getError().map(AcmeFailure::problem),
        token,
        response,
        recordName);
  }
}
