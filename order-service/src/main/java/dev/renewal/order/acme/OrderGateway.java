package dev.renewal.order.acme;

import dev.renewal.acme.CaProfile;
import java.util.List;
import java.util.Optional;

/**
 * What order-service asks of a CA. Implementations block (they make HTTP calls): call them only
 * from a worker, never from a consumer thread.
 */
public interface OrderGateway {

  /**
   * Creates an order for {@code names}.
   *
   * @param replaces the ARI id of the certificate this one replaces, sent only if the CA advertises
   *     renewalInfo
   * @throws AccountFailure if the account step failed
   * @throws RuntimeException wrapping the CA's error otherwise
   */
  PlacedOrder place(CaProfile profile, List<String> names, Optional<String> replaces);

  /** Re-reads an order the service created before (POST-as-GET on its URL). */
  PlacedOrder fetch(CaProfile profile, String orderUrl);
}
