package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.renewal.events.RevocationReason;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** What `renewal revoke` accepts, before it reads or publishes anything. */
class RevokeCommandTest {
  private final CommandLine.Model.CommandSpec spec =
      RenewalCli.commandLine().getSubcommands().get("revoke").getCommandSpec();

  @Test
  void aReasonIsRfc5280sNameOrItsCapitalsAndNothingElse() {
    assertThat(RevokeCommand.reason(spec, "keyCompromise"))
        .isEqualTo(RevocationReason.KEY_COMPROMISE);
    assertThat(RevokeCommand.reason(spec, "CESSATION_OF_OPERATION"))
        .isEqualTo(RevocationReason.CESSATION_OF_OPERATION);
    assertThat(RevokeCommand.reason(spec, "affiliation-changed"))
        .isEqualTo(RevocationReason.AFFILIATION_CHANGED);
    for (String bad : new String[] {"unknown", "caCompromise", "certificateHold", ""}) {
      assertThatThrownBy(() -> RevokeCommand.reason(spec, bad))
          .isInstanceOf(ParameterException.class)
          .hasMessageStartingWith("--reason: '" + bad + "' is not one of unspecified");
    }
    assertThat(RevokeCommand.name(RevocationReason.CESSATION_OF_OPERATION))
        .isEqualTo("cessationOfOperation");
  }

  @Test
  void aSerialIsWrittenAsTheEventsWriteIt() {
    assertThat(RevokeCommand.serial(spec, "0A:1B:FF")).isEqualTo("a1bff");
    assertThat(RevokeCommand.serial(spec, "0x00ab")).isEqualTo("ab");
    assertThatThrownBy(() -> RevokeCommand.serial(spec, "xyz"))
        .isInstanceOf(ParameterException.class)
        .hasMessage("--serial: not a hexadecimal serial number: xyz");
  }

  @Test
  void aTargetIsOneOfANameASerialOrARequestIdAndABadOneIsOneLineExitTwo() {
    StringWriter err = new StringWriter();
    CommandLine cli = RenewalCli.commandLine();
    cli.setErr(new PrintWriter(err));
    assertThat(cli.execute("revoke", "shop", "--serial", "0a")).isEqualTo(2);
    assertThat(err.toString().strip().lines()).hasSize(1);
    assertThat(err.toString()).startsWith("renewal revoke: ").contains("mutually exclusive");
    err.getBuffer().setLength(0);
    assertThat(cli.execute("revoke", "shop", "--reason", "hold")).isEqualTo(2);
    assertThat(err.toString().strip())
        .isEqualTo(
            "renewal revoke: --reason: 'hold' is not one of unspecified, keyCompromise,"
                + " affiliationChanged, superseded, cessationOfOperation (--help for usage)");
  }
}
