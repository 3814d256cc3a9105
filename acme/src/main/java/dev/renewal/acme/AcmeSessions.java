package dev.renewal.acme;

import dev.renewal.tls.TrustedCertificates;
import java.net.http.HttpClient;
import java.security.Security;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.provider.GenericAcmeProvider;

/**
 * acme4j sessions, one per CA profile and thread: a Session serialises its signed requests (it
 * holds the nonce for the whole round trip), so sharing one between workers would make them wait on
 * each other. A private CA's certificate is trusted per session, without touching the JVM's global
 * trust store.
 */
public final class AcmeSessions {
  static {
    if (Security.getProvider(BouncyCastleProvider.PROVIDER_NAME) == null) {
      Security.addProvider(new BouncyCastleProvider());
    }
  }

  private final Map<String, ThreadLocal<Session>> sessions = new ConcurrentHashMap<>();
  private final Map<String, SSLContext> sslContexts = new ConcurrentHashMap<>();

  /** Makes sure BouncyCastle is registered (acme4j's CSR and key utilities need it). */
  public static void registerBouncyCastle() {
    // the static initializer did it
  }

  /** This thread's session for {@code profile}. */
  public Session session(CaProfile profile) {
    return sessions
        .computeIfAbsent(profile.name(), n -> ThreadLocal.withInitial(() -> create(profile)))
        .get();
  }

  private Session create(CaProfile profile) {
    SSLContext ssl =
        profile
            .trustPem()
            .map(
                p ->
                    sslContexts.computeIfAbsent(
                        profile.name(), n -> TrustedCertificates.sslContext(p)))
            .orElse(null);
    Session session =
        new Session(
            profile.directoryUrl(),
            new GenericAcmeProvider() {
              @Override
              public HttpClient createHttpClient(NetworkSettings settings) {
                HttpClient.Builder builder =
                    HttpClient.newBuilder()
                        .connectTimeout(settings.getTimeout())
                        .followRedirects(HttpClient.Redirect.NORMAL);
                if (ssl != null) {
                  builder.sslContext(ssl);
                }
                return new ServerErrorRetryAfter(builder.build());
              }
            });
    session.networkSettings().setTimeout(profile.httpTimeout());
    return session;
  }
}
