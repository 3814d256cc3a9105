package dev.renewal.cli;

import dev.renewal.challenge.ChallengeServiceApp;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code renewal challenge-service}: challenge-service as its own process. */
@Command(
    name = "challenge-service",
    mixinStandardHelpOptions = true,
    description = {
      "Runs challenge-service: solves HTTP-01 and DNS-01 and records every observation.",
      "",
      "Consumes acme.order.placed; per authorization fetches it, provisions the response (HTTP-01"
          + " tokens through the shared acme.http01.responses topic, served by every instance on"
          + " challenge.http01.host:port; DNS-01 through challenge.dns.provider), triggers the"
          + " challenge and polls the authorization until it is terminal or its deadline passes."
          + " Emits ChallengeObserved and AuthorizationObserved. Runs until Ctrl-C."
    })
final class ChallengeServiceCommand implements Callable<Integer> {
  /** Where a standalone challenge-service serves /metrics unless told otherwise. */
  static final int METRICS_PORT = 9402;

  @Mixin ServiceOptions options;

  @Override
  public Integer call() throws InterruptedException {
    ChallengeServiceApp app =
        ChallengeServiceApp.start(
            options.settings(Map.of("challenge.metrics.port", String.valueOf(METRICS_PORT))));
    return RunUntilStopped.run(
        "challenge-service",
        app,
        "challenge-service running (HTTP-01 on port " + app.http01Port() + "); Ctrl-C to stop");
  }
}
