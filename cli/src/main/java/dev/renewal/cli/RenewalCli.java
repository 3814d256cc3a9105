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

  public static void main(String[] args) {
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
