package dev.renewal.cli;

import dev.renewal.acme.AccountStore;
import dev.renewal.acme.AcmeSessions;
import dev.renewal.acme.CaProfile;
import dev.renewal.acme.CaProfiles;
import dev.renewal.acme.ServiceContext;
import dev.renewal.config.Settings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.shredzone.acme4j.Account;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.exception.AcmeException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code renewal account}: the pipeline's ACME accounts, one per CA profile. */
@Command(
    name = "account",
    mixinStandardHelpOptions = true,
    description = "The pipeline's ACME accounts, one per CA profile.",
    subcommands = {AccountCommand.Show.class, AccountCommand.RollOver.class})
final class AccountCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "give a subcommand: show, rollover");
  }

  /**
   * {@code renewal account show --ca PROFILE}: the account URL, its status and contact as the CA
   * answers now, its key type and when the key was made. Reads the key folder of the services
   * ({@code acme.key.dir}); never prints a key.
   */
  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = {
        "Shows the ACME account of a CA profile: its URL, status and contact (asked of the CA),"
            + " its key type and when the key was made. Exit 1 when there is no account yet"
            + " (order-service creates it with its first order) or the CA does not answer."
      })
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin Profile account;

    @Override
    public Integer call() {
      CaProfile profile = account.profile();
      Path keyDir = account.keyDir();
      AccountStore store = new AccountStore(keyDir);
      String ca = profile.name();
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      Optional<java.net.URL> url = store.accountUrl(profile);
      if (url.isEmpty()) {
        err.printf(
            "renewal account show: no account for CA profile '%s' in %s yet (order-service"
                + " creates it with its first order)%n",
            ca, keyDir.toAbsolutePath());
        err.flush();
        return 1;
      }
      Login login = store.existingLogin(profile, new AcmeSessions().session(profile));
      Path keyFile = store.keyFile(profile);
      String made;
      try {
        made = Files.getLastModifiedTime(keyFile).toInstant().toString();
      } catch (IOException e) {
        made = "unknown (" + e.getMessage() + ")";
      }
      out.printf("CA profile   %s (%s)%n", profile.name(), profile.directoryUrl());
      out.printf("account      %s%n", url.get());
      out.printf(
          "key          %s, made %s (%s)%n",
          keyType(login.getKeyPair().getPublic()), made, keyFile);
      out.flush();
      try {
        Account account = login.getAccount();
        account.fetch();
        out.printf(
            "status       %s%n", account.getStatus().name().toLowerCase(java.util.Locale.ROOT));
        out.printf(
            "contact      %s%n",
            account.getContacts().isEmpty()
                ? "(none)"
                : account.getContacts().stream()
                    .map(Object::toString)
                    .collect(Collectors.joining(", ")));
        out.flush();
        return 0;
      } catch (AcmeException | RuntimeException e) {
        err.printf(
            "renewal account show: the CA did not answer for %s: %s%n", url.get(), e.getMessage());
        err.flush();
        return 1;
      }
    }
  }

  /**
   * What both subcommands take: {@code --ca PROFILE} and the services' configuration, for the
   * profile and the services' key folder ({@code acme.key.dir}).
   */
  static final class Profile {
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Mixin ServiceOptions options;

    @Option(
        names = "--ca",
        required = true,
        paramLabel = "PROFILE",
        description = "The CA profile (one of ca.profiles).")
    String ca;

    private Settings settings() {
      return options.settings().withDefaults(ServiceContext.DEFAULTS);
    }

    /** The profile {@code --ca} names, or a one-line error naming the ones there are. */
    CaProfile profile() {
      CaProfiles profiles = CaProfiles.from(settings());
      return profiles
          .get(ca)
          .orElseThrow(
              () ->
                  new ParameterException(
                      spec.commandLine(),
                      "--ca: no CA profile '"
                          + ca
                          + "' (ca.profiles: "
                          + profiles.names().stream().sorted().collect(Collectors.joining(", "))
                          + ")"));
    }

    Path keyDir() {
      return settings().reader().path("acme.key.dir");
    }
  }

  /**
   * {@code renewal account rollover --ca PROFILE}: a new account key (RFC 8555 section 7.3.5),
   * written owner-only beside the old one and switched atomically once the CA has it.
   */
  @Command(
      name = "rollover",
      mixinStandardHelpOptions = true,
      description = {
        "Rolls a CA profile's account key over to a new one (RFC 8555 keyChange): the new key"
            + " is written owner-only to account.key.next, the CA changes the key, then it"
            + " replaces account.key. Services sharing the key folder use the new key from their"
            + " next CA call; a service on another machine needs the new account.key first (the"
            + " CA refuses the old one at once). A crash at any point leaves a usable account: the"
            + " next login asks the CA which key it knows and finishes or discards the change.",
        "Exit codes: 0 rolled over, 1 no account yet or the CA refused or did not answer (the old"
            + " key stays), 2 a bad argument."
      })
  static final class RollOver implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin Profile account;

    @Override
    public Integer call() {
      CaProfile profile = account.profile();
      Path keyDir = account.keyDir();
      AccountStore store = new AccountStore(keyDir);
      String ca = profile.name();
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      if (store.accountUrl(profile).isEmpty()) {
        err.printf(
            "renewal account rollover: no account for CA profile '%s' in %s yet%n",
            ca, keyDir.toAbsolutePath());
        err.flush();
        return 1;
      }
      try {
        AccountStore.Rollover done = store.rollover(profile, new AcmeSessions().session(profile));
        out.printf("CA profile   %s (%s)%n", profile.name(), profile.directoryUrl());
        out.printf("account      %s%n", done.account());
        out.printf(
            "key          %s, new, in %s (the CA refuses the old one from now on)%n",
            keyType(done.next().getPublic()), store.keyFile(profile));
        out.flush();
        return 0;
      } catch (AcmeException | RuntimeException e) {
        err.printf(
            "renewal account rollover: the key of '%s' was not changed: %s%n", ca, e.getMessage());
        err.flush();
        return 1;
      }
    }
  }

  /** {@code EC P-384}, {@code RSA 2048}. */
  static String keyType(PublicKey key) {
    if (key instanceof ECPublicKey ec) {
      return "EC P-" + ec.getParams().getCurve().getField().getFieldSize();
    }
    if (key instanceof RSAPublicKey rsa) {
      return "RSA " + rsa.getModulus().bitLength();
    }
    return key.getAlgorithm();
  }
}
