package dev.renewal.order.acme;

import dev.renewal.events.AcmeStatus;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** An order as the CA described it: its location URLs and status. Plain values, no acme4j. */
public record PlacedOrder(
    String accountUrl,
    String orderUrl,
    String finalizeUrl,
    List<String> authorizationUrls,
    AcmeStatus status,
    Optional<String> rawStatus,
    Optional<Instant> expires) {

  public PlacedOrder {
    authorizationUrls = List.copyOf(authorizationUrls);
  }
}
