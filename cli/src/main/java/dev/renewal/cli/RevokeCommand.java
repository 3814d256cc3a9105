package dev.renewal.cli;

import dev.renewal.events.CertificateIssued;
import dev.renewal.events.CertificateRevoked;
import dev.renewal.events.ManagedCertificate;
import dev.renewal.events.RevocationFailed;
import dev.renewal.events.RevocationReason;
import dev.renewal.events.RevocationRequested;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.TopicReader;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code renewal revoke}: asks finalize-service to revoke one certificate the pipeline issued (RFC
 * 8555 section 7.6), found on {@code certificate.issued} (a name's current one from the inventory),
 * and waits for its answer. Nothing is published for a name, serial or request id the pipeline did
 * not issue, or a reason outside the list.
 */
@Command(
    name = "revoke",
    mixinStandardHelpOptions = true,
    description = {
      "Revokes a certificate the pipeline issued: by name (its current certificate), serial or"
          + " request id. finalize-service asks the CA that issued it; keyCompromise is signed"
          + " with the certificate's own key, which is then never used again. A managed"
          + " certificate revoked is renewed at once (cessationOfOperation also unmanages it).",
      "Exit codes: 0 revoked (or revoked before), 1 the revocation failed, 2 a bad argument or an"
          + " unknown certificate (nothing published), 3 no answer within --timeout."
    })
final class RevokeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ServiceOptions options;

  static final class Target {
    @Parameters(paramLabel = "NAME", arity = "0..1", description = "Certificate name.")
    String name;

    @Option(names = "--serial", paramLabel = "HEX", description = "Serial number (hexadecimal).")
    String serial;

    @Option(names = "--request-id", paramLabel = "ID", description = "The request that issued it.")
    String requestId;
  }

  @ArgGroup(multiplicity = "1")
  Target target;

  @Option(
      names = "--reason",
      paramLabel = "REASON",
      defaultValue = "unspecified",
      description =
          "unspecified (default), keyCompromise, affiliationChanged, superseded,"
              + " cessationOfOperation (RFC 5280; the reasons a subscriber may give).")
  String reason;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "60s",
      description =
          "How long to wait for finalize-service's answer (default 60s; 0s: do not wait).")
  String timeout;

  @Override
  public Integer call() {
    RevocationReason why = reason(spec, reason);
    Duration wait;
    try {
      wait = StatusCommand.duration(timeout);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(
          spec.commandLine(), "--timeout: not a duration (30s, 2m): " + timeout);
    }
    String serial = target.serial == null ? null : serial(spec, target.serial);
    OpsContext ctx = OpsContext.load(options.settings());
    PrintWriter out = spec.commandLine().getOut();
    TopicReader reader = new TopicReader(ctx.kafka());
    List<CertificateIssued> issued =
        reader.readAll(ctx.topics().certificateIssued, Duration.ofSeconds(30)).stream()
            .map(ConsumerRecord::value)
            .filter(v -> v != null)
            .toList();
    EventLog.reportSkipped(reader, spec.commandLine().getErr());
    CertificateIssued cert = find(ctx, issued, serial);
    RevocationRequested request =
        RevocationRequested.newBuilder()
            .setEventId(UUID.randomUUID().toString())
            .setOccurredAt(Instant.now())
            .setRequestId(cert.getRequestId())
            .setCertificateName(cert.getCertificateName())
            .setSerialNumber(cert.getSerialNumber())
            .setReason(why)
            .setRequestedBy(System.getProperty("user.name", ""))
            .build();
    try (Publisher publisher = Publisher.create(ctx.kafka(), "renewal-cli")) {
      publisher.send(ctx.topics().revocationRequested, request.getRequestId(), request).join();
    }
    out.printf(
        "revoke %s serial %s (%s): sent to %s%n",
        cert.getCertificateName(),
        cert.getSerialNumber(),
        name(why),
        ctx.topics().revocationRequested.name());
    out.flush();
    if (wait.isZero()) {
      return 0;
    }
    return answer(ctx, request, wait, out);
  }

  /**
   * Waits for the answer to {@code request} on both outcome topics at once (read from their start,
   * so an answer that came before the wait began is found); prints it; the exit code.
   */
  private int answer(OpsContext ctx, RevocationRequested request, Duration wait, PrintWriter out) {
    String id = request.getEventId();
    Object answer =
        new TopicReader(ctx.kafka())
                .await(
                    List.of(ctx.topics().certificateRevoked, ctx.topics().revocationFailed),
                    r ->
                        r.value() instanceof org.apache.avro.generic.GenericRecord g
                            && id.equals(String.valueOf(g.get("revocationEventId"))),
                    1,
                    wait)
                .stream()
                .findFirst()
                .map(ConsumerRecord::value)
                .orElse(null);
    if (answer instanceof CertificateRevoked r) {
      out.printf(
          "revoked: %s serial %s, reason %s, by %s%s%s%n",
          r.getCertificateName(),
          r.getSerialNumber(),
          name(r.getReason()),
          r.getCaProfile(),
          r.getAlreadyRevoked() ? " (the CA says it was revoked already)" : "",
          r.getKeyRetired() ? "; its key is retired, the renewal gets a new one" : "");
      out.flush();
      return 0;
    }
    if (answer instanceof RevocationFailed f) {
      out.printf(
          "not revoked: %s%s%s%n",
          f.getProblem().getType(),
          f.getProblem().getDetail() == null ? "" : ": " + f.getProblem().getDetail(),
          f.getRetryable() ? " (may succeed later: run the same command again)" : "");
      out.flush();
      return 1;
    }
    out.printf(
        "no answer within %s: is finalize-service running? (the request stays on %s)%n",
        timeout, ctx.topics().revocationRequested.name());
    out.flush();
    return 3;
  }

  /** The certificate the target names, or a one-line error. */
  private CertificateIssued find(OpsContext ctx, List<CertificateIssued> issued, String serial) {
    Comparator<CertificateIssued> latest =
        Comparator.comparing(CertificateIssued::getNotBefore)
            .thenComparing(CertificateIssued::getSerialNumber);
    if (target.name != null) {
      ManagedCertificate managed =
          CertificatesCommand.inventory(ctx, spec.commandLine().getErr()).get(target.name);
      String current =
          managed == null || managed.getCurrent() == null
              ? null
              : managed.getCurrent().getSerialNumber();
      return issued.stream()
          .filter(c -> c.getCertificateName().equals(target.name))
          .filter(c -> current == null || c.getSerialNumber().equals(current))
          .max(latest)
          .orElseThrow(
              () ->
                  new ParameterException(
                      spec.commandLine(),
                      "no certificate issued for the name '"
                          + target.name
                          + "' (renewal certificates lists them)"));
    }
    if (serial != null) {
      return issued.stream()
          .filter(c -> c.getSerialNumber().equals(serial))
          .max(latest)
          .orElseThrow(
              () ->
                  new ParameterException(
                      spec.commandLine(),
                      "no certificate with serial " + serial + " was issued by this pipeline"));
    }
    return issued.stream()
        .filter(c -> c.getRequestId().equals(target.requestId))
        .max(Comparator.comparing(CertificateIssued::getAttempt).thenComparing(latest))
        .orElseThrow(
            () ->
                new ParameterException(
                    spec.commandLine(),
                    "request " + target.requestId + " has no certificate issued"));
  }

  /** The reason, as RFC 5280 spells it (keyCompromise) or in capitals (KEY_COMPROMISE). */
  static RevocationReason reason(CommandSpec spec, String text) {
    String normalized = text.replace("-", "").replace("_", "").toLowerCase(Locale.ROOT);
    for (RevocationReason r : RevocationReason.values()) {
      if (r != RevocationReason.UNKNOWN
          && r.name().replace("_", "").toLowerCase(Locale.ROOT).equals(normalized)) {
        return r;
      }
    }
    throw new ParameterException(
        spec.commandLine(),
        "--reason: '"
            + text
            + "' is not one of unspecified, keyCompromise, affiliationChanged, superseded,"
            + " cessationOfOperation");
  }

  /** RFC 5280's name of {@code r}: keyCompromise. */
  static String name(RevocationReason r) {
    String[] words = r.name().toLowerCase(Locale.ROOT).split("_");
    StringBuilder b = new StringBuilder(words[0]);
    for (int i = 1; i < words.length; i++) {
      b.append(Character.toUpperCase(words[i].charAt(0))).append(words[i].substring(1));
    }
    return b.toString();
  }

  /** A serial as the events write it (lower-case hexadecimal, no leading zeros or colons). */
  static String serial(CommandSpec spec, String text) {
    String hex = text.replace(":", "").toLowerCase(Locale.ROOT);
    if (hex.startsWith("0x")) {
      hex = hex.substring(2);
    }
    if (!hex.matches("[0-9a-f]{1,64}")) {
      throw new ParameterException(
          spec.commandLine(), "--serial: not a hexadecimal serial number: " + text);
    }
    return new BigInteger(hex, 16).toString(16);
  }
}
