package dev.renewal.finalize.acme;

import dev.renewal.acme.CaProfile;
import dev.renewal.events.RevocationReason;
import java.security.KeyPair;
import java.util.Optional;

/** What finalize-service asks of a CA. Blocking: call from a worker, never a stream thread. */
public interface FinalizeGateway {

  /** POST-as-GET of the order (RFC 8555 section 7.1.3). */
  OrderView fetch(CaProfile profile, String orderUrl);

  /** Finalizes with a CSR for the order's names signed by {@code key} (section 7.4). */
  void finalizeWithKey(CaProfile profile, String orderUrl, KeyPair key);

  /** Finalizes with the request's own CSR (DER). */
  void finalizeWithCsr(CaProfile profile, String orderUrl, byte[] csrDer);

  /** Downloads the certificate of a valid order, with its alternate chains (section 7.4.2). */
  IssuedCertificate download(CaProfile profile, String orderUrl);

  /** What a revocation came to. */
  enum Revocation {
    /** The CA revoked it now. */
    REVOKED,
    /** The CA answered {@code alreadyRevoked}. */
    ALREADY_REVOKED,
    /** The order's certificate has another serial: nothing was sent. */
    NOT_THIS_CERTIFICATE
  }

  /**
   * Revokes certificate {@code leafPem} (section 7.6), or when none is given the certificate of the
   * valid order {@code orderUrl} if its serial is {@code serial}: signed by the profile's account,
   * or with {@code certificateKey} when given (the certificate's own key, a JWK-signed request).
   */
  Revocation revoke(
      CaProfile profile,
      String orderUrl,
      String serial,
      Optional<String> leafPem,
      RevocationReason reason,
      Optional<KeyPair> certificateKey);
}
