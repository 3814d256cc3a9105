package dev.renewal.finalize.acme;

import dev.renewal.acme.CaProfile;
import java.security.KeyPair;

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
}
