package dev.renewal.cli;

import dev.renewal.events.CertificateCommand;
import dev.renewal.events.CommandAction;
import dev.renewal.events.ManagedCertificate;
import dev.renewal.topics.Publisher;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code renewal renew} and {@code renewal unmanage}: commands about managed certificates, on
 * {@code certificate.commands}. The names are checked against the inventory first: an unknown name
 * is one line on stderr and nothing is published.
 */
final class CertificateCommands {
  /** More names than this are sent with a progress line instead of a line each. */
  static final int BULK = 20;

  private CertificateCommands() {}

  /**
   * Publishes {@code action} for each of {@code names}, all of them in {@code inventory} (as read
   * through {@code ctx}), or none.
   */
  static int publish(
      CommandSpec spec,
      OpsContext ctx,
      Map<String, ManagedCertificate> inventory,
      CommandAction action,
      List<String> names) {
    List<String> unknown = names.stream().filter(n -> !inventory.containsKey(n)).toList();
    if (!unknown.isEmpty()) {
      throw new ParameterException(
          spec.commandLine(),
          "not in the inventory (renewal certificates lists it): " + String.join(", ", unknown));
    }
    PrintWriter out = spec.commandLine().getOut();
    String who = System.getProperty("user.name", "");
    String verb = action.toString().toLowerCase(java.util.Locale.ROOT);
    // A few names: a line each. Many (renew --all-due): a progress line, then the totals.
    boolean bulk = names.size() > BULK;
    ProgressLine progress =
        ProgressLine.of(verb + " sent", names.size(), spec.commandLine().getErr());
    List<java.util.concurrent.CompletableFuture<?>> sends = new ArrayList<>();
    try (Publisher publisher = Publisher.create(ctx.kafka(), "renewal-cli")) {
      for (String name : names) {
        sends.add(
            publisher
                .send(
                    ctx.topics().commands,
                    name,
                    CertificateCommand.newBuilder()
                        .setEventId(UUID.randomUUID().toString())
                        .setOccurredAt(Instant.now())
                        .setCertificateName(name)
                        .setAction(action)
                        .setRequestedBy(who)
                        .build())
                .whenComplete((v, e) -> progress.advance()));
        if (!bulk) {
          sends.get(sends.size() - 1).join();
          out.printf("%s %s: sent to %s%n", verb, name, ctx.topics().commands.name());
        }
      }
      java.util.concurrent.CompletableFuture.allOf(
              sends.toArray(java.util.concurrent.CompletableFuture[]::new))
          .join();
    }
    if (bulk) {
      progress.done();
      out.printf(
          "%s %d certificates: sent to %s%n", verb, names.size(), ctx.topics().commands.name());
    }
    out.flush();
    return 0;
  }

  @Command(
      name = "renew",
      mixinStandardHelpOptions = true,
      description = {
        "Renews managed certificates now (like cmctl renew): scheduler-service decides a"
            + " renewal with reason MANUAL for each, unless it is being renewed already."
      })
  static final class Renew implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ServiceOptions options;

    @Parameters(paramLabel = "NAME", arity = "0..*", description = "Certificate names.")
    List<String> names = new ArrayList<>();

    @Option(
        names = "--all-due",
        description = "Every managed certificate whose next renewal is within --within.")
    boolean allDue;

    @Option(
        names = "--within",
        paramLabel = "DURATION",
        defaultValue = "0s",
        description = "With --all-due: due within this (default: now), e.g. 7d.")
    String within;

    @Override
    public Integer call() {
      if (allDue == !names.isEmpty()) {
        throw new ParameterException(spec.commandLine(), "give certificate names or --all-due");
      }
      Duration dueWithin = null;
      if (allDue) {
        try {
          dueWithin = StatusCommand.duration(within);
        } catch (IllegalArgumentException e) {
          throw new ParameterException(
              spec.commandLine(), "--within: not a duration (7d, 12h, 30m): " + within);
        }
      }
      OpsContext ctx = OpsContext.load(options.settings());
      Map<String, ManagedCertificate> inventory =
          CertificatesCommand.inventory(ctx, spec.commandLine().getErr());
      List<String> targets = names;
      if (allDue) {
        Instant by = Instant.now().plus(dueWithin);
        targets =
            inventory.values().stream()
                .filter(c -> c.getManaged() && c.getNextRenewalAt() != null)
                .filter(c -> !c.getNextRenewalAt().isAfter(by))
                .map(ManagedCertificate::getCertificateName)
                .sorted()
                .toList();
        if (targets.isEmpty()) {
          spec.commandLine().getOut().println("no managed certificate is due by " + by);
          spec.commandLine().getOut().flush();
          return 0;
        }
      }
      return publish(spec, ctx, inventory, CommandAction.RENEW, targets);
    }
  }

  @Command(
      name = "unmanage",
      mixinStandardHelpOptions = true,
      description = {
        "Stops renewing certificates: they stay in the inventory, unmanaged, with their history;"
            + " a later managed request for a name manages it again."
      })
  static final class Unmanage implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ServiceOptions options;

    @Parameters(paramLabel = "NAME", arity = "1..*", description = "Certificate names.")
    List<String> names = new ArrayList<>();

    @Override
    public Integer call() {
      OpsContext ctx = OpsContext.load(options.settings());
      return publish(
          spec,
          ctx,
          CertificatesCommand.inventory(ctx, spec.commandLine().getErr()),
          CommandAction.UNMANAGE,
          names);
    }
  }
}
