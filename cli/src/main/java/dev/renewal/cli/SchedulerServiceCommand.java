package dev.renewal.cli;

import dev.renewal.scheduler.SchedulerServiceApp;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code renewal scheduler-service}: scheduler-service as its own process. */
@Command(
    name = "scheduler-service",
    mixinStandardHelpOptions = true,
    description = {
      "Runs scheduler-service: keeps every managed certificate renewed.",
      "",
      "A Kafka Streams application (exactly-once) folds renewal.requested, certificate.issued,"
          + " renewal.failed and certificate.commands into the inventory (certificate.inventory,"
          + " one record per certificate name) and, when a certificate's renewal time comes (a"
          + " third of its lifetime left by default, ca.<profile>.renewal.before), emits"
          + " RenewalDue on certificate.due and publishes the renewal's request. Runs until"
          + " Ctrl-C. See docs/scheduler-service.md."
    })
final class SchedulerServiceCommand implements Callable<Integer> {
  /** Where a standalone scheduler-service serves /metrics unless told otherwise. */
  static final int METRICS_PORT = 9404;

  @Mixin ServiceOptions options;

  @Override
  public Integer call() throws InterruptedException {
    SchedulerServiceApp app =
        SchedulerServiceApp.start(
            options.settings(Map.of("scheduler.metrics.port", String.valueOf(METRICS_PORT))));
    return RunUntilStopped.run(
        "scheduler-service", app, "scheduler-service running; Ctrl-C to stop");
  }
}
