package dev.renewal.cli;

import dev.renewal.config.ConfigException;
import dev.renewal.local.bench.BenchCommand;
import dev.renewal.serde.AvroTrust;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code renewal} command line: one entry point, one subcommand per job. */
@Command(
    name = "renewal",
    mixinStandardHelpOptions = true,
    versionProvider = RenewalCli.Version.class,
    description = "An event-driven ACME certificate renewal pipeline on Apache Kafka.",
    footer = {
      "",
      "Exit codes: 0 done; 1 what was asked failed (a renewal, a revocation, no such events);"
          + " 2 a bad argument or configuration, nothing done; 3 no outcome within the timeout;"
          + " 4 the Kafka broker, the schema registry or Pebble is not there (one line says which"
          + " and what to do).",
      "Log lines: a service logs on standard output; every other command logs to"
          + " .renewal/logs/<command>.log (RENEWAL_WORK_DIR), the demo to its run folder;"
          + " --verbose also prints them on standard error."
    },
    subcommands = {
      DemoCommand.class,
      StackCommand.class,
      OrderServiceCommand.class,
      ChallengeServiceCommand.class,
      FinalizeServiceCommand.class,
      SchedulerServiceCommand.class,
      PublishCommand.class,
      StatusCommand.class,
      CertificatesCommand.class,
      CertificateCommands.Renew.class,
      CertificateCommands.Unmanage.class,
      RevokeCommand.class,
      AccountCommand.class,
      ReplayCommand.class,
      DlqCommand.class,
      BenchCommand.class,
      TopicsCommand.class,
      CommandLine.HelpCommand.class
    })
public final class RenewalCli {
  @picocli.CommandLine.Option(
      names = "--verbose",
      scope = picocli.CommandLine.ScopeType.INHERIT,
      description = "Also print the log lines on standard error.")
  boolean verbose;

  public static void main(String[] args) {
    Logs.configure(args);
    AvroTrust.trustEventPackages();
    System.exit(commandLine().execute(args));
  }

  /** The command line with its subcommands, for {@code main} and the tests. */
  public static CommandLine commandLine() {
    return new CommandLine(new RenewalCli())
        .setCaseInsensitiveEnumValuesAllowed(true)
        // A bad argument is one line that says what is wrong (and where the help is), exit 2.
        .setParameterExceptionHandler(
            (e, args) -> {
              CommandLine cmd = e.getCommandLine();
              cmd.getErr()
                  .println(
                      cmd.getCommandSpec().qualifiedName()
                          + ": "
                          + e.getMessage()
                          + " (--help for usage)");
              cmd.getErr().flush();
              return 2;
            })
        .setExecutionExceptionHandler(
            (e, cmd, parsed) -> {
              if (e instanceof ConfigException) {
                cmd.getErr().println(cmd.getCommandName() + ": " + e.getMessage());
                return 2;
              }
              if (e instanceof Unreachable) {
                cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + e.getMessage());
                cmd.getErr().flush();
                return Unreachable.EXIT;
              }
              throw e;
            });
  }

  /** Prints the version from the jar's manifest, or "development" when run from classes. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = RenewalCli.class.getPackage().getImplementationVersion();
      return new String[] {"renewal " + (v == null ? "development" : v)};
    }
  }
}
