package dev.renewal.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.renewal.events.ManagedCertificate;
import dev.renewal.events.RenewalAttempt;
import dev.renewal.scheduler.domain.Inventory;
import dev.renewal.topics.TopicReader;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code renewal certificates}: the managed certificates, as the inventory holds them. */
@Command(
    name = "certificates",
    mixinStandardHelpOptions = true,
    description = {
      "Lists the managed certificates (certificate.inventory, kept by scheduler-service): name,"
          + " DNS names, CA profile, serial, when it expires, when it is renewed next and why,"
          + " the last attempt's outcome; REVOKED for a current certificate revoked."
    })
final class CertificatesCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ServiceOptions options;

  @Option(
      names = "--due-within",
      paramLabel = "DURATION",
      description = "Only those whose next renewal is within this (e.g. 7d, 12h).")
  String dueWithin;

  @Option(names = "--failing", description = "Only those whose latest attempt failed.")
  boolean failing;

  @Option(names = "--json", description = "One JSON array, for scripts.")
  boolean json;

  @Option(names = "--all", description = "Also the unmanaged ones.")
  boolean all;

  @Override
  public Integer call() {
    Duration within = null;
    if (dueWithin != null) {
      try {
        within = StatusCommand.duration(dueWithin);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(
            spec.commandLine(), "--due-within: not a duration (7d, 12h, 30m): " + dueWithin);
      }
    }
    OpsContext ctx = OpsContext.load(options.settings());
    Instant now = Instant.now();
    List<ManagedCertificate> shown = new ArrayList<>();
    for (ManagedCertificate c : inventory(ctx, spec.commandLine().getErr()).values()) {
      if (!all && !c.getManaged()) {
        continue;
      }
      if (failing && !Inventory.failing(c)) {
        continue;
      }
      if (within != null
          && (c.getNextRenewalAt() == null || c.getNextRenewalAt().isAfter(now.plus(within)))) {
        continue;
      }
      shown.add(c);
    }
    shown.sort(Comparator.comparing(ManagedCertificate::getCertificateName));
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(json(shown));
    } else {
      table(shown, now, out);
    }
    out.flush();
    return 0;
  }

  /** The latest record of every name in {@code certificate.inventory}. */
  static Map<String, ManagedCertificate> inventory(OpsContext ctx, PrintWriter err) {
    TopicReader reader = new TopicReader(ctx.kafka());
    Map<String, ManagedCertificate> inventory =
        reader.table(ctx.topics().inventory, Duration.ofSeconds(30));
    EventLog.reportSkipped(reader, err);
    return inventory;
  }

  static String lastOutcome(ManagedCertificate c) {
    List<RenewalAttempt> attempts = c.getAttempts();
    if (attempts.isEmpty()) {
      return "-";
    }
    RenewalAttempt a = attempts.get(attempts.size() - 1);
    String outcome = a.getOutcome().toString().toLowerCase(java.util.Locale.ROOT);
    if (a.getFailedStage() != null) {
      outcome += " at " + a.getFailedStage() + " (" + a.getProblemType() + ")";
    }
    if (c.getConsecutiveFailures() > 1) {
      outcome += ", " + c.getConsecutiveFailures() + " failures in a row";
    }
    return outcome;
  }

  static String next(ManagedCertificate c, Instant now) {
    if (!c.getManaged()) {
      return "unmanaged";
    }
    if (c.getNextRenewalAt() != null) {
      String reason = c.getNextRenewalReason().toString().toLowerCase(java.util.Locale.ROOT);
      String why;
      switch (c.getNextRenewalReason()) {
        case RETRY:
          why = "retry on " + c.getNextRenewalProfile();
          break;
        case FALLBACK:
          why = "fallback to " + c.getNextRenewalProfile();
          break;
        case ARI_WINDOW:
        case ARI_WINDOW_PASSED:
          why =
              c.getRenewalInfo() == null
                  ? reason
                  : reason + " of " + c.getRenewalInfo().getCaProfile();
          break;
        default:
          why = reason;
      }
      return c.getNextRenewalAt()
          + " (in "
          + human(Duration.between(now, c.getNextRenewalAt()))
          + ", "
          + why
          + ")";
    }
    if (Inventory.renewing(c)) {
      return "renewing now";
    }
    if (Inventory.failing(c)) {
      return "failing, not retried: renewal renew " + c.getCertificateName() + " to try again";
    }
    return c.getCurrent() == null ? "not issued yet" : "-";
  }

  private static void table(List<ManagedCertificate> shown, Instant now, PrintWriter out) {
    if (shown.isEmpty()) {
      out.println("no managed certificates");
      return;
    }
    out.printf(
        "%-24s %-32s %-10s %-18s %-22s %-48s %s%n",
        "NAME", "DNS NAMES", "CA", "SERIAL", "EXPIRES", "NEXT RENEWAL", "LAST ATTEMPT");
    for (ManagedCertificate c : shown) {
      String names = c.getRequest() == null ? "-" : String.join(",", c.getRequest().getDnsNames());
      out.printf(
          "%-24s %-32s %-10s %-18s %-22s %-48s %s%n",
          c.getCertificateName(),
          names,
          issuedBy(c),
          c.getCurrent() == null ? "-" : abbreviate(c.getCurrent().getSerialNumber()),
          expires(c, now),
          next(c, now),
          lastOutcome(c));
    }
  }

  /** In how long the current certificate expires, or that it was revoked. */
  static String expires(ManagedCertificate c, Instant now) {
    if (c.getCurrent() == null) {
      return "-";
    }
    return Inventory.currentRevocation(c)
        .map(r -> "REVOKED (" + RevokeCommand.name(r.getReason()) + ")")
        .orElse("in " + human(Duration.between(now, c.getCurrent().getNotAfter())));
  }

  /** The profile that issued the current certificate, else the request's. */
  static String issuedBy(ManagedCertificate c) {
    if (c.getCurrent() != null && c.getCurrent().getCaProfile() != null) {
      return c.getCurrent().getCaProfile();
    }
    return c.getRequest() == null ? "-" : c.getRequest().getCaProfile();
  }

  private static String abbreviate(String serial) {
    return serial.length() <= 18 ? serial : serial.substring(0, 15) + "...";
  }

  /** 3d 4h, 5h 12m, 42s; "expired 2h ago" for the past. */
  static String human(Duration d) {
    if (d.isNegative()) {
      return human(d.negated()) + " ago";
    }
    long s = d.getSeconds();
    if (s >= 86_400) {
      return (s / 86_400) + "d " + (s % 86_400) / 3600 + "h";
    }
    if (s >= 3600) {
      return (s / 3600) + "h " + (s % 3600) / 60 + "m";
    }
    if (s >= 60) {
      return (s / 60) + "m " + s % 60 + "s";
    }
    return s + "s";
  }

  private static String json(List<ManagedCertificate> shown) {
    ObjectMapper mapper = new ObjectMapper();
    ArrayNode array = mapper.createArrayNode();
    for (ManagedCertificate c : shown) {
      ObjectNode o = array.addObject();
      o.put("name", c.getCertificateName());
      o.put("managed", c.getManaged());
      ArrayNode names = o.putArray("dnsNames");
      if (c.getRequest() != null) {
        c.getRequest().getDnsNames().forEach(names::add);
        o.put("caProfile", c.getRequest().getCaProfile());
      }
      if (c.getCurrent() != null) {
        o.put("serialNumber", c.getCurrent().getSerialNumber());
        o.put("notBefore", c.getCurrent().getNotBefore().toString());
        o.put("notAfter", c.getCurrent().getNotAfter().toString());
        o.put("issuer", c.getCurrent().getIssuer());
        o.put("issuedBy", issuedBy(c));
        Inventory.currentRevocation(c)
            .ifPresent(
                r -> {
                  ObjectNode v = o.putObject("revoked");
                  v.put("reason", RevokeCommand.name(r.getReason()));
                  v.put("at", r.getRevokedAt().toString());
                });
      }
      if (c.getNextRenewalAt() != null) {
        o.put("nextRenewalAt", c.getNextRenewalAt().toString());
        o.put("nextRenewalReason", c.getNextRenewalReason().toString());
        o.put("nextRenewalProfile", c.getNextRenewalProfile());
      }
      if (c.getRenewalInfo() != null && c.getRenewalInfo().getWindowStart() != null) {
        ObjectNode w = o.putObject("renewalWindow");
        w.put("start", c.getRenewalInfo().getWindowStart().toString());
        w.put("end", c.getRenewalInfo().getWindowEnd().toString());
        w.put("explanationUrl", c.getRenewalInfo().getExplanationUrl());
        w.put("observedAt", c.getRenewalInfo().getOccurredAt().toString());
        w.put("forSerial", c.getRenewalInfo().getSerialNumber());
      }
      o.put("renewing", Inventory.renewing(c));
      o.put("failing", Inventory.failing(c));
      o.put("consecutiveFailures", c.getConsecutiveFailures());
      o.put("lastAttempt", lastOutcome(c));
    }
    return array.toPrettyString();
  }
}
