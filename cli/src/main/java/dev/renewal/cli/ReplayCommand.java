package dev.renewal.cli;

import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.topics.Publisher;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code renewal replay}: failed renewals, re-published from the log. */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description = {
      "Re-publishes failed renewals from renewal.failed as new attempts.",
      "",
      "Selects failures by --request-id, --name, --since, --stage, --problem or --all-retryable;"
          + " --dry-run shows what would be replayed. Each replay is the original request with"
          + " attempt + 1 and replayOf = the failure's event id. A failure is never replayed twice,"
          + " nor when a certificate was issued for the request after it; what is skipped is said."
    })
final class ReplayCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ServiceOptions options;

  @Option(names = "--request-id", description = "Replay these requests' latest failures.")
  List<String> requestIds = new ArrayList<>();

  @Option(names = "--name", description = "Replay failures of this certificate name.")
  String name;

  @Option(names = "--since", description = "Only failures this recent (e.g. 24h).")
  String since;

  @Option(names = "--stage", description = "Only failures at this stage (e.g. AUTHORIZATION).")
  String stage;

  @Option(names = "--problem", description = "Only failures with this problem type.")
  String problem;

  @Option(names = "--all-retryable", description = "Every retryable failure.")
  boolean allRetryable;

  @Option(names = "--dry-run", description = "Show what would be replayed; publish nothing.")
  boolean dryRun;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (requestIds.isEmpty()
        && name == null
        && stage == null
        && problem == null
        && !allRetryable
        && since == null) {
      spec.commandLine()
          .getErr()
          .println(
              "replay: select failures (--request-id, --name, --since, --stage, --problem, --all-retryable)");
      return 2;
    }
    OpsContext ctx = OpsContext.load(options.settings());
    EventLog log = EventLog.read(ctx.kafka(), ctx.topics(), spec.commandLine().getErr());
    Instant from =
        since == null ? Instant.EPOCH : Instant.now().minus(StatusCommand.duration(since));
    Set<String> replayed =
        log.requests().stream()
            .map(RenewalRequested::getReplayOf)
            .filter(r -> r != null)
            .collect(Collectors.toSet());
    List<RenewalFailed> selected = new ArrayList<>();
    for (RenewalFailed f : latestFailures(log)) {
      if ((!requestIds.isEmpty() && !requestIds.contains(f.getRequestId()))
          || (name != null && !name.equals(f.getRequest().getCertificateName()))
          || (stage != null && !stage.equalsIgnoreCase(f.getStage().toString()))
          || (problem != null && !problem.equals(f.getProblem().getType()))
          || (allRetryable && !f.getRetryable())
          || f.getOccurredAt().isBefore(from)) {
        continue;
      }
      if (replayed.contains(f.getEventId())) {
        out.printf(
            "skip    %s  %s: already replayed%n",
            f.getRequestId(), f.getRequest().getCertificateName());
        continue;
      }
      boolean issuedLater =
          log.issued().stream()
              .anyMatch(
                  c ->
                      c.getRequestId().equals(f.getRequestId())
                          && c.getOccurredAt().isAfter(f.getOccurredAt()));
      if (issuedLater) {
        out.printf(
            "skip    %s  %s: a certificate was issued after this failure%n",
            f.getRequestId(), f.getRequest().getCertificateName());
        continue;
      }
      selected.add(f);
    }
    if (!dryRun && !selected.isEmpty()) {
      ProgressLine progress =
          ProgressLine.of("replayed", selected.size(), spec.commandLine().getErr());
      List<java.util.concurrent.CompletableFuture<?>> sends = new ArrayList<>();
      try (Publisher publisher = Publisher.create(ctx.kafka(), "renewal-replay")) {
        for (RenewalFailed f : selected) {
          RenewalRequested again =
              RenewalRequested.newBuilder(f.getRequest())
                  .setEventId(UUID.randomUUID().toString())
                  .setOccurredAt(Instant.now())
                  .setAttempt(f.getRequest().getAttempt() + 1)
                  .setReplayOf(f.getEventId())
                  .build();
          sends.add(
              publisher
                  .send(ctx.topics().renewalRequested, again.getRequestId(), again)
                  .whenComplete((v, e) -> progress.advance()));
        }
        java.util.concurrent.CompletableFuture.allOf(
                sends.toArray(java.util.concurrent.CompletableFuture[]::new))
            .get();
        if (selected.size() > 1) {
          progress.done();
        }
      }
    }
    for (RenewalFailed f : selected) {
      out.printf(
          "%s %s  %s: attempt %d, failed at %s (%s)%n",
          dryRun ? "would replay" : "replayed",
          f.getRequestId(),
          f.getRequest().getCertificateName(),
          f.getRequest().getAttempt() + 1,
          f.getStage(),
          f.getProblem().getType());
    }
    out.printf("%s %d%n", dryRun ? "would replay" : "replayed", selected.size());
    out.flush();
    return 0;
  }

  /**
   * Per request, only its latest failure (an older one was already followed by a newer attempt).
   */
  private static List<RenewalFailed> latestFailures(EventLog log) {
    var latest = new java.util.LinkedHashMap<String, RenewalFailed>();
    for (RenewalFailed f : log.failures()) {
      latest.put(f.getRequestId(), f);
    }
    return List.copyOf(latest.values());
  }
}
