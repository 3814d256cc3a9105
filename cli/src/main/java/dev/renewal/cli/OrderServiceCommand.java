package dev.renewal.cli;

import dev.renewal.order.OrderServiceApp;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code renewal order-service}: order-service as its own process. */
@Command(
    name = "order-service",
    mixinStandardHelpOptions = true,
    description = {
      "Runs order-service: renewal requests become ACME orders.",
      "",
      "Consumes renewal.requested, validates each request, makes sure the CA profile's ACME"
          + " account exists, creates the order and emits OrderPlaced (or RenewalFailed, or a"
          + " dead letter). Runs until Ctrl-C. Scale out by starting more instances with the same"
          + " order.group.id. Keys: kafka.*, registry.url, topics.*, ca.profiles, ca.<name>.*,"
          + " acme.key.dir, order.group.id, order.max.pending (see docs/configuration.md)."
    })
final class OrderServiceCommand implements Callable<Integer> {
  /** Where a standalone order-service serves /metrics unless told otherwise. */
  static final int METRICS_PORT = 9401;

  @Mixin ServiceOptions options;

  @Override
  public Integer call() throws InterruptedException {
    OrderServiceApp app =
        OrderServiceApp.start(
            options.settings(Map.of("order.metrics.port", String.valueOf(METRICS_PORT))));
    return RunUntilStopped.run("order-service", app, "order-service running; Ctrl-C to stop");
  }
}
