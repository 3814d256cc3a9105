package dev.renewal.cli;

import dev.renewal.events.CertificateIssued;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.RequestState;
import dev.renewal.events.RequestStatus;
import dev.renewal.topics.TopicReader;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code renewal status}: where a request stands, from the log. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Shows where renewals stand, from the events in the log.",
      "",
      "status REQUEST_ID (or --name CERT): the request's timeline and where it stands now."
          + " status --failed [--since 24h]: failed requests with stage and reason. status --summary:"
          + " counts of requested, in flight, issued and failed.",
      "status --follow REQUEST_ID (or --name CERT): the timeline so far, then each step as it"
          + " happens, until the certificate is issued (exit 0) or the renewal failed (exit 1);"
          + " exit 3 when --timeout passes first."
    })
final class StatusCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ServiceOptions options;

  @Parameters(arity = "0..1", description = "A request id.")
  String requestId;

  @Option(names = "--name", description = "A certificate name: its latest request.")
  String name;

  @Option(names = "--failed", description = "List failed requests.")
  boolean failed;

  @Option(
      names = "--since",
      description = "With --failed: only failures this recent (e.g. 24h, 30m).")
  String since;

  @Option(names = "--summary", description = "Counts per stage.")
  boolean summary;

  @Option(
      names = "--follow",
      description = "Print the steps as they happen, until the request is issued or failed.")
  boolean follow;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "10m",
      description = "With --follow: give up after this long (default ${DEFAULT-VALUE}).")
  String timeout;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    OpsContext ctx = OpsContext.load(options.settings());
    if (summary) {
      Map<String, RequestStatus> view = view(ctx, spec.commandLine().getErr());
      if (!view.isEmpty()) {
        return summary(view, ctx.topics().status.name(), out);
      }
      out.println(
          "the view "
              + ctx.topics().status.name()
              + " is empty (finalize-service keeps it); counting from the events instead");
      return summary(EventLog.read(ctx.kafka(), ctx.topics(), spec.commandLine().getErr()), out);
    }
    Duration followFor = null;
    if (follow) {
      try {
        followFor = duration(timeout);
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), "--timeout: not a duration (30s, 10m): " + timeout);
      }
    }
    if (follow && requestId != null) {
      return follow(ctx, requestId, followFor, out);
    }
    EventLog log = EventLog.read(ctx.kafka(), ctx.topics(), spec.commandLine().getErr());
    if (failed) {
      Instant from = since == null ? Instant.EPOCH : Instant.now().minus(duration(since));
      for (RenewalFailed f : log.failures()) {
        if (!f.getOccurredAt().isBefore(from)) {
          out.printf(
              "%s  %s  %-20s %-18s %s%s  %s%n",
              f.getOccurredAt(),
              f.getRequestId(),
              f.getRequest().getCertificateName(),
              f.getStage(),
              f.getProblem().getType(),
              f.getRetryable() ? " (retryable)" : "",
              f.getProblem().getDetail() == null ? "" : f.getProblem().getDetail());
        }
      }
      out.flush();
      return 0;
    }
    String id = requestId;
    if (id == null && name != null) {
      id =
          log.requests().stream()
              .filter(r -> r.getCertificateName().equals(name))
              .reduce((a, b) -> b)
              .map(RenewalRequested::getRequestId)
              .orElse(null);
    }
    if (id == null) {
      spec.commandLine()
          .getErr()
          .println("status: give a request id, --name, --failed or --summary");
      return 2;
    }
    if (follow) {
      return follow(ctx, id, followFor, out);
    }
    List<EventLog.Entry> timeline = log.of(id);
    if (timeline.isEmpty()) {
      out.println("no events for request " + id);
      out.flush();
      return 1;
    }
    Instant start = timeline.get(0).at();
    for (EventLog.Entry e : timeline) {
      out.println(Progress.line(start, e.at(), e.event()));
    }
    out.println("now: " + now(timeline));
    out.flush();
    return 0;
  }

  /** {@code --follow}: the steps so far, then as they come, until the outcome; the exit code. */
  private int follow(OpsContext ctx, String id, Duration timeout, PrintWriter out) {
    Progress.Outcome outcome =
        new Progress(ctx.kafka(), ctx.topics(), out).follow(id, timeout, true);
    if (outcome.issued().isPresent()) {
      out.println("now: " + issued(outcome.issued().get()));
      out.flush();
      return 0;
    }
    if (outcome.failed().isPresent()) {
      out.println("now: " + failed(outcome.failed().get()));
      out.flush();
      return 1;
    }
    out.println("no outcome within " + this.timeout + " (still in flight)");
    out.flush();
    return 3;
  }

  static String now(List<EventLog.Entry> timeline) {
    // As the status view decides: the latest attempt; within it, a certificate outweighs any
    // failure reported around it, and of several failures the last one stands.
    int attempt = timeline.stream().mapToInt(e -> attemptOf(e.event())).max().orElse(1);
    Optional<Object> issued =
        timeline.stream()
            .map(EventLog.Entry::event)
            .filter(e -> e instanceof CertificateIssued c && c.getAttempt() == attempt)
            .findFirst()
            .map(Object.class::cast);
    Optional<Object> last =
        issued.isPresent()
            ? issued
            : timeline.stream()
                .map(EventLog.Entry::event)
                .filter(e -> e instanceof RenewalFailed && attemptOf(e) == attempt)
                .reduce((a, b) -> b)
                .map(Object.class::cast);
    if (last.isPresent() && last.get() instanceof CertificateIssued c) {
      Optional<dev.renewal.events.CertificateRevoked> revoked =
          timeline.stream()
              .map(EventLog.Entry::event)
              .filter(
                  e ->
                      e instanceof dev.renewal.events.CertificateRevoked r
                          && r.getSerialNumber().equals(c.getSerialNumber()))
              .map(dev.renewal.events.CertificateRevoked.class::cast)
              .findFirst();
      return revoked
          .map(
              r ->
                  "issued, serial "
                      + c.getSerialNumber()
                      + ", REVOKED ("
                      + RevokeCommand.name(r.getReason())
                      + ") at "
                      + r.getOccurredAt())
          .orElse(issued(c));
    }
    if (last.isPresent() && last.get() instanceof RenewalFailed f) {
      return failed(f);
    }
    return "in flight, last step: " + Progress.describe(timeline.get(timeline.size() - 1).event());
  }

  /** Where a request stands once {@code c} is issued. */
  static String issued(CertificateIssued c) {
    return "issued, serial " + c.getSerialNumber() + ", valid until " + c.getNotAfter();
  }

  /** Where a request stands once {@code f} failed it, and what to do when it may go away. */
  static String failed(RenewalFailed f) {
    return "failed at "
        + f.getStage()
        + ": "
        + f.getProblem().getType()
        + (f.getRetryable()
            ? " (retryable: renewal replay --request-id " + f.getRequestId() + ")"
            : "");
  }

  /** The latest status of every request, from the compacted view. */
  static Map<String, RequestStatus> view(OpsContext ctx, PrintWriter err) {
    TopicReader reader = new TopicReader(ctx.kafka());
    Map<String, RequestStatus> view = reader.table(ctx.topics().status, Duration.ofSeconds(30));
    EventLog.reportSkipped(reader, err);
    return view;
  }

  private static final int IN_FLIGHT_SHOWN = 20;

  static int summary(Map<String, RequestStatus> view, String viewName, PrintWriter out) {
    Map<String, Integer> counts = new java.util.TreeMap<>();
    List<RequestStatus> inFlight = new java.util.ArrayList<>();
    for (RequestStatus st : view.values()) {
      String key = st.getState().toString().toLowerCase(java.util.Locale.ROOT);
      if (st.getState() == RequestState.FAILED) {
        key +=
            " at "
                + st.getFailedStage()
                + (Boolean.TRUE.equals(st.getRetryable()) ? " (retryable)" : "");
      }
      counts.merge(key, 1, Integer::sum);
      if (st.getState() != RequestState.ISSUED && st.getState() != RequestState.FAILED) {
        inFlight.add(st);
      }
    }
    out.printf("requests %d (from the view %s)%n", view.size(), viewName);
    counts.forEach((k, v) -> out.printf("  %-40s %d%n", k, v));
    if (!inFlight.isEmpty()) {
      inFlight.sort(java.util.Comparator.comparing(RequestStatus::getUpdatedAt));
      out.printf("in flight, longest waiting first:%n");
      Instant now = Instant.now();
      for (RequestStatus st : inFlight.subList(0, Math.min(IN_FLIGHT_SHOWN, inFlight.size()))) {
        out.printf(
            "  %s  %-20s %-13s attempt %d, %ds since the last step%n",
            st.getRequestId(),
            st.getCertificateName(),
            st.getState(),
            st.getAttempt(),
            Duration.between(st.getUpdatedAt(), now).toSeconds());
      }
      if (inFlight.size() > IN_FLIGHT_SHOWN) {
        out.printf("  ... and %d more%n", inFlight.size() - IN_FLIGHT_SHOWN);
      }
    }
    out.flush();
    return 0;
  }

  private static int summary(EventLog log, PrintWriter out) {
    Map<String, String> state = new LinkedHashMap<>();
    Map<String, List<EventLog.Entry>> byRequest = new LinkedHashMap<>();
    for (EventLog.Entry e : log.all()) {
      byRequest.computeIfAbsent(e.requestId(), k -> new java.util.ArrayList<>()).add(e);
    }
    byRequest.forEach(
        (id, timeline) -> {
          String now = now(timeline);
          String kind = timeline.get(timeline.size() - 1).event().getSchema().getName();
          state.put(
              id,
              now.startsWith("issued")
                  ? "issued"
                  : now.startsWith("failed") ? "failed" : "in flight (" + kind + ")");
        });
    Map<String, Integer> counts = new LinkedHashMap<>();
    state.values().forEach(v -> counts.merge(v, 1, Integer::sum));
    out.printf("requests %d%n", state.size());
    counts.forEach((k, v) -> out.printf("  %-40s %d%n", k, v));
    out.flush();
    return 0;
  }

  /** The attempt an event belongs to (1 when it does not say). */
  static int attemptOf(org.apache.avro.generic.GenericRecord event) {
    if (event instanceof CertificateIssued c) {
      return c.getAttempt();
    }
    if (event instanceof RenewalRequested r) {
      return r.getAttempt();
    }
    Object request = event.getSchema().getField("request") == null ? null : event.get("request");
    return request instanceof RenewalRequested r ? r.getAttempt() : 1;
  }

  static Duration duration(String text) {
    String t = text.trim().toLowerCase(java.util.Locale.ROOT);
    long n = Long.parseLong(t.replaceAll("[a-z]+$", ""));
    return switch (t.replaceAll("^[0-9]+", "")) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      case "d" -> Duration.ofDays(n);
      default ->
          throw new IllegalArgumentException("not a duration: " + text + " (e.g. 30m, 24h, 7d)");
    };
  }
}
