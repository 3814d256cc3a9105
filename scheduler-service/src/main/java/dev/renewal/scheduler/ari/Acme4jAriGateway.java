package dev.renewal.scheduler.ari;

import dev.renewal.acme.AcmeSessions;
import dev.renewal.acme.CaCallFailure;
import dev.renewal.acme.CaProfile;
import java.net.URL;
import java.time.Instant;
import java.util.Optional;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.connector.Connection;
import org.shredzone.acme4j.connector.Resource;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeProtocolException;
import org.shredzone.acme4j.toolbox.JSON;

/**
 * {@link AriGateway} with acme4j's connection: an unauthenticated GET of {@code
 * <renewalInfo>/<certificate id>} (RFC 9773 §4.1), its errors as acme4j classifies every answer (a
 * problem document, 429 and its Retry-After, 5xx). No account is needed.
 */
public final class Acme4jAriGateway implements AriGateway {
  private final AcmeSessions sessions;

  public Acme4jAriGateway(AcmeSessions sessions) {
    this.sessions = sessions;
  }

  @Override
  public Optional<Answer> fetch(CaProfile profile, String ariCertId) {
    Session session = sessions.session(profile);
    try {
      Optional<URL> base = session.resourceUrlOptional(Resource.RENEWAL_INFO);
      if (base.isEmpty()) {
        return Optional.empty();
      }
      String root = base.get().toString();
      URL url = CaCallFailure.url((root.endsWith("/") ? root : root + "/") + ariCertId);
      try (Connection conn = session.connect()) {
        conn.sendRequest(url, session, null);
        JSON json = conn.readJsonResponse();
        JSON window = json.get("suggestedWindow").asObject();
        Instant start = window.get("start").asInstant();
        Instant end = window.get("end").asInstant();
        String explanation =
            json.get("explanationURL").optional().map(v -> v.asString()).orElse(null);
        return Optional.of(new Answer(start, end, explanation, conn.getRetryAfter()));
      }
    } catch (AcmeException e) {
      throw new CaCallFailure(e);
    } catch (AcmeProtocolException | IllegalArgumentException e) {
      // An answer that breaks RFC 9773 (no window, a time that is not one).
      throw new CaCallFailure(
          new org.shredzone.acme4j.exception.AcmeException(
              "renewal information: " + e.getMessage(), e));
    }
  }
}
