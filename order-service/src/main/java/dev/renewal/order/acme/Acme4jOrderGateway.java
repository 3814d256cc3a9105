package dev.renewal.order.acme;

import dev.renewal.acme.AccountStore;
import dev.renewal.acme.AcmeSessions;
import dev.renewal.acme.CaCallFailure;
import dev.renewal.acme.CaProfile;
import dev.renewal.acme.Statuses;
import java.net.URL;
import java.util.List;
import java.util.Optional;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.OrderBuilder;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.connector.Resource;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link OrderGateway} with acme4j: one Session per worker thread and profile. */
public final class Acme4jOrderGateway implements OrderGateway {
  private static final Logger LOGGER = LoggerFactory.getLogger(Acme4jOrderGateway.class);

  private final AcmeSessions sessions;
  private final AccountStore accounts;

  public Acme4jOrderGateway(AcmeSessions sessions, AccountStore accounts) {
    this.sessions = sessions;
    this.accounts = accounts;
  }

  private Login login(CaProfile profile) {
    Session session = sessions.session(profile);
    try {
      return accounts.login(profile, session);
    } catch (AcmeException | RuntimeException e) {
      throw new AccountFailure(e);
    }
  }

  @Override
  public PlacedOrder place(CaProfile profile, List<String> names, Optional<String> replaces) {
    Login login = login(profile);
    try {
      boolean ari =
          replaces.isPresent()
              && login.getSession().resourceUrlOptional(Resource.RENEWAL_INFO).isPresent();
      Order order;
      try {
        order = build(login, names, ari ? replaces : Optional.empty()).create();
      } catch (AcmeServerException e) {
        if (!ari) {
          throw e;
        }
        // draft-ietf-acme-ari: a CA may refuse a replacement it does not know; order anyway.
        LOGGER.warn(
            "ca refused the ARI replaces field, ordering without it: profile={} replaces={} problem={}",
            profile.name(),
            replaces.get(),
            e.getProblem().getType());
        order = build(login, names, Optional.empty()).create();
      }
      return describe(login, order);
    } catch (AcmeException e) {
      throw new CaCallFailure(e);
    }
  }

  private static OrderBuilder build(Login login, List<String> names, Optional<String> replaces) {
    OrderBuilder builder = login.newOrder().domains(names);
    replaces.ifPresent(builder::replaces);
    return builder;
  }

  @Override
  public PlacedOrder fetch(CaProfile profile, String orderUrl) {
    Login login = login(profile);
    try {
      Order order = login.bindOrder(CaCallFailure.url(orderUrl));
      Statuses.fetch(order);
      return describe(login, order);
    } catch (AcmeException e) {
      throw new CaCallFailure(e);
    }
  }

  private static PlacedOrder describe(Login login, Order order) {
    Optional<String> raw = Statuses.raw(order);
    return new PlacedOrder(
        login.getAccountLocation().toString(),
        order.getLocation().toString(),
        order.getFinalizeLocation().toString(),
        order.getAuthorizations().stream()
            .map(Authorization::getLocation)
            .map(URL::toString)
            .toList(),
        Statuses.of(raw.orElse(null)),
        raw,
        order.getExpires());
  }
}
