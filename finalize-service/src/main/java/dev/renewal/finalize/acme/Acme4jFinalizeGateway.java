package dev.renewal.finalize.acme;

import dev.renewal.acme.AccountStore;
import dev.renewal.acme.AcmeFailure;
import dev.renewal.acme.AcmeSessions;
import dev.renewal.acme.CaCallFailure;
import dev.renewal.acme.CaProfile;
import dev.renewal.acme.Statuses;
import java.io.StringWriter;
import java.security.KeyPair;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.shredzone.acme4j.Certificate;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.toolbox.AcmeUtils;

/** {@link FinalizeGateway} with acme4j: one Session per worker thread and profile. */
public final class Acme4jFinalizeGateway implements FinalizeGateway {
  private final AcmeSessions sessions;
  private final AccountStore accounts;

  public Acme4jFinalizeGateway(AcmeSessions sessions, AccountStore accounts) {
    this.sessions = sessions;
    this.accounts = accounts;
  }

  private Order order(CaProfile profile, String orderUrl) {
    Login login = accounts.existingLogin(profile, sessions.session(profile));
    return login.bindOrder(CaCallFailure.url(orderUrl));
  }

  @Override
  public OrderView fetch(CaProfile profile, String orderUrl) {
    try {
      Order order = order(profile, orderUrl);
      Optional<java.time.Instant> retryAfter = order.fetch();
      Optional<String> raw = Statuses.raw(order);
      return new OrderView(
          Statuses.of(raw.orElse(null)),
          raw,
          order.getError().map(AcmeFailure::problem),
          retryAfter);
    } catch (AcmeException e) {
      throw new CaCallFailure(e);
    }
  }

  @Override
  public void finalizeWithKey(CaProfile profile, String orderUrl, KeyPair key) {
    try {
      Order order = order(profile, orderUrl);
      order.fetch();
      order.execute(key);
    } catch (AcmeException e) {
      throw new CaCallFailure(e);
    }
  }

  @Override
  public void finalizeWithCsr(CaProfile profile, String orderUrl, byte[] csrDer) {
    try {
      Order order = order(profile, orderUrl);
      order.fetch();
      order.execute(csrDer);
    } catch (AcmeException e) {
      throw new CaCallFailure(e);
    }
  }

  @Override
  public IssuedCertificate download(CaProfile profile, String orderUrl) {
    try {
      Order order = order(profile, orderUrl);
      order.fetch();
      Certificate certificate = order.getCertificate();
      certificate.download();
      List<X509Certificate> chain = certificate.getCertificateChain();
      X509Certificate leaf = chain.get(0);
      List<String> alternates = new ArrayList<>();
      for (Certificate alternate : certificate.getAlternateCertificates()) {
        alternate.download();
        alternates.add(pem(alternate.getCertificateChain()));
      }
      List<String> names = new ArrayList<>();
      if (leaf.getSubjectAlternativeNames() != null) {
        for (List<?> san : leaf.getSubjectAlternativeNames()) {
          if (Integer.valueOf(2).equals(san.get(0))) {
            names.add(String.valueOf(san.get(1)));
          }
        }
      }
      return new IssuedCertificate(
          certificate.getLocation().toString(),
          pem(chain),
          pem(chain.subList(0, 1)),
          pem(chain.subList(1, chain.size())),
          alternates,
          leaf.getSerialNumber().toString(16),
          leaf.getNotBefore().toInstant(),
          leaf.getNotAfter().toInstant(),
          leaf.getIssuerX500Principal().getName(),
          names,
          ariCertId(leaf));
    } catch (AcmeException e) {
      throw new CaCallFailure(e);
    } catch (CertificateParsingException e) {
      throw new IllegalStateException("cannot read the certificate's names: " + e, e);
    }
  }

  private static String ariCertId(X509Certificate leaf) {
    try {
      return AcmeUtils.getRenewalUniqueIdentifier(leaf);
    } catch (RuntimeException e) {
      // A certificate without an AKI has no ARI id (draft-ietf-acme-ari section 4.1).
      return null;
    }
  }

  static String pem(List<X509Certificate> certificates) {
    StringWriter out = new StringWriter();
    Base64.Encoder encoder = Base64.getMimeEncoder(64, new byte[] {'\n'});
    for (X509Certificate c : certificates) {
      try {
        out.write("-----BEGIN CERTIFICATE-----\n");
        out.write(encoder.encodeToString(c.getEncoded()));
        out.write("\n-----END CERTIFICATE-----\n");
      } catch (CertificateEncodingException e) {
        throw new IllegalStateException(e);
      }
    }
    return out.toString();
  }
}
