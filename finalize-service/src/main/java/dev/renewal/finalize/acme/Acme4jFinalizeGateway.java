package dev.renewal.finalize.acme;

import dev.renewal.acme.AccountStore;
import dev.renewal.acme.AcmeFailure;
import dev.renewal.acme.AcmeSessions;
import dev.renewal.acme.CaCallFailure;
import dev.renewal.acme.CaProfile;
import dev.renewal.acme.Statuses;
import dev.renewal.events.RevocationReason;
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
import org.shredzone.acme4j.connector.Connection;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeProtocolException;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.shredzone.acme4j.toolbox.AcmeUtils;
import org.shredzone.acme4j.toolbox.JSON;
import org.shredzone.acme4j.toolbox.JSONBuilder;
import org.shredzone.acme4j.util.CSRBuilder;

/** {@link FinalizeGateway} with acme4j: one Session per worker thread and profile. */
public final class Acme4jFinalizeGateway implements FinalizeGateway {
  private final AcmeSessions sessions;
  private final AccountStore accounts;

  /**
   * The order as last read (or as the finalize POST answered), by URL: the finalize call and the
   * download use it instead of reading the order once more. A miss reads it.
   */
  private final java.util.Map<String, JSON> seen = new java.util.concurrent.ConcurrentHashMap<>();

  private static final int MAX_SEEN = 20_000;

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
      Optional<java.time.Instant> retryAfter = Statuses.fetch(order);
      remember(orderUrl, order.getJSON());
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
    JSON order = known(profile, orderUrl);
    CSRBuilder csr = new CSRBuilder();
    for (JSON.Value v : order.get("identifiers").asArray()) {
      JSON id = v.asObject();
      String value = id.get("value").asString();
      if ("ip".equals(id.get("type").asString())) {
        try {
          csr.addIP(java.net.InetAddress.getByName(value));
        } catch (java.net.UnknownHostException e) {
          throw new IllegalStateException("not an IP address in the order: " + value, e);
        }
      } else {
        csr.addDomain(value);
      }
    }
    try {
      csr.sign(key);
      finalizeWithCsr(profile, orderUrl, csr.getEncoded());
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot build the CSR: " + e, e);
    }
  }

  @Override
  public void finalizeWithCsr(CaProfile profile, String orderUrl, byte[] csrDer) {
    // RFC 8555 section 7.4: POST the CSR to the order's finalize URL; the answer is the order.
    JSON order = known(profile, orderUrl);
    Login login = accounts.existingLogin(profile, sessions.session(profile));
    try (Connection conn = login.getSession().connect()) {
      conn.sendSignedRequest(
          order.get("finalize").asURL(), new JSONBuilder().putBase64("csr", csrDer), login);
      remember(orderUrl, conn.readJsonResponse());
    } catch (AcmeException e) {
      throw new CaCallFailure(e);
    }
  }

  /** The order as last seen, or read now. */
  private JSON known(CaProfile profile, String orderUrl) {
    JSON json = seen.get(orderUrl);
    if (json == null) {
      fetch(profile, orderUrl);
      json = seen.get(orderUrl);
    }
    return json;
  }

  private void remember(String orderUrl, JSON json) {
    if (seen.size() > MAX_SEEN) {
      seen.clear();
    }
    seen.put(orderUrl, json);
  }

  @Override
  public IssuedCertificate download(CaProfile profile, String orderUrl) {
    try {
      Login login = accounts.existingLogin(profile, sessions.session(profile));
      JSON last = seen.remove(orderUrl);
      Certificate certificate;
      if (last != null && last.get("certificate").isPresent()) {
        certificate = login.bindCertificate(last.get("certificate").asURL());
      } else {
        Order order = login.bindOrder(CaCallFailure.url(orderUrl));
        Statuses.fetch(order);
        certificate = order.getCertificate();
      }
      certificate.download();
      List<X509Certificate> chain = certificate.getCertificateChain();
      if (chain.isEmpty()) {
        throw new AcmeProtocolException("the certificate download holds no certificate");
      }
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
      // The CA's answer, not our bug: classified transient like any malformed answer, so the
      // download is tried again (a download changes nothing at the CA).
      throw new AcmeProtocolException("cannot read the certificate's names: " + e, e);
    }
  }

  @Override
  public Revocation revoke(
      CaProfile profile,
      String orderUrl,
      String serial,
      Optional<String> leafPem,
      RevocationReason reason,
      Optional<KeyPair> certificateKey) {
    try {
      Login login = accounts.existingLogin(profile, sessions.session(profile));
      X509Certificate leaf;
      if (leafPem.isPresent()) {
        leaf = parse(leafPem.get());
      } else {
        // Recorded before the leaf was: the CA's copy (some CAs, Pebble among them, stop serving
        // a certificate once it is revoked; then the revocation fails and says so).
        Order order = login.bindOrder(CaCallFailure.url(orderUrl));
        Statuses.fetch(order);
        Certificate certificate = order.getCertificate();
        certificate.download();
        leaf = certificate.getCertificate();
      }
      if (!leaf.getSerialNumber().toString(16).equals(serial)) {
        return Revocation.NOT_THIS_CERTIFICATE;
      }
      org.shredzone.acme4j.RevocationReason code = code(reason);
      if (certificateKey.isPresent()) {
        Certificate.revoke(login.getSession(), certificateKey.get(), leaf, code);
      } else {
        Certificate.revoke(login, leaf, code);
      }
      return Revocation.REVOKED;
    } catch (AcmeServerException e) {
      if (e.getType() != null && e.getType().toString().equals(ALREADY_REVOKED)) {
        return Revocation.ALREADY_REVOKED;
      }
      throw new CaCallFailure(e);
    } catch (AcmeException e) {
      throw new CaCallFailure(e);
    }
  }

  static final String ALREADY_REVOKED = "urn:ietf:params:acme:error:alreadyRevoked";

  private static X509Certificate parse(String pem) {
    try {
      return (X509Certificate)
          java.security.cert.CertificateFactory.getInstance("X.509")
              .generateCertificate(
                  new java.io.ByteArrayInputStream(
                      pem.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    } catch (java.security.cert.CertificateException e) {
      throw new IllegalStateException("the recorded certificate cannot be read: " + e, e);
    }
  }

  /** The RFC 5280 reason code of {@code reason} (never UNKNOWN: the handler refuses it). */
  static org.shredzone.acme4j.RevocationReason code(RevocationReason reason) {
    return switch (reason) {
      case KEY_COMPROMISE -> org.shredzone.acme4j.RevocationReason.KEY_COMPROMISE;
      case AFFILIATION_CHANGED -> org.shredzone.acme4j.RevocationReason.AFFILIATION_CHANGED;
      case SUPERSEDED -> org.shredzone.acme4j.RevocationReason.SUPERSEDED;
      case CESSATION_OF_OPERATION -> org.shredzone.acme4j.RevocationReason.CESSATION_OF_OPERATION;
      case UNSPECIFIED -> org.shredzone.acme4j.RevocationReason.UNSPECIFIED;
      default -> throw new IllegalArgumentException("no RFC 5280 reason for " + reason);
    };
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
