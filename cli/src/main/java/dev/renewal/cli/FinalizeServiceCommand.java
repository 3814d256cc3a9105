package dev.renewal.cli;

import dev.renewal.finalize.FinalizeServiceApp;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code renewal finalize-service}: finalize-service as its own process. */
@Command(
    name = "finalize-service",
    mixinStandardHelpOptions = true,
    description = {
      "Runs finalize-service: reconciles observations, finalizes, downloads, issues.",
      "",
      "A Kafka Streams application (exactly-once) reconciles every challenge and authorization"
          + " observation per authorization, emits AuthorizationReconciled and, per order,"
          + " OrderReady or RenewalFailed; its finalization worker finalizes ready orders (at most"
          + " once), polls them, downloads the chain, writes cert.pem, chain.pem, fullchain.pem and"
          + " privkey.pem under finalize.output.dir, and emits CertificateIssued. Runs until Ctrl-C."
    })
final class FinalizeServiceCommand implements Callable<Integer> {
  /** Where a standalone finalize-service serves /metrics unless told otherwise. */
  static final int METRICS_PORT = 9403;

  @Mixin ServiceOptions options;

  @Override
  public Integer call() throws InterruptedException {
    FinalizeServiceApp app =
        FinalizeServiceApp.start(
            options.settings(Map.of("finalize.metrics.port", String.valueOf(METRICS_PORT))));
    return RunUntilStopped.run("finalize-service", app, "finalize-service running; Ctrl-C to stop");
  }
}
