package dev.renewal.challenge.provision;

import dev.renewal.challenge.domain.ChallengeView;
import dev.renewal.events.AuthorizationWork;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.Problem;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** Serves challenge responses where the CA will look for them, and removes them afterwards. */
public interface Provisioner {

  /**
   * Serves the response of {@code challenge} and completes once it is visible where the CA will
   * look, or with the problem that stopped it; never exceptionally.
   */
  CompletableFuture<Optional<Problem>> provision(ChallengeType type, ChallengeView challenge);

  /**
   * Removes what {@code work} records as served (an HTTP-01 token, a DNS-01 TXT value); a failure
   * is logged and the response left behind. Completes normally in every case.
   */
  CompletableFuture<Void> remove(AuthorizationWork work);
}
