package dev.renewal.cli;

import dev.renewal.events.RenewalRequested;
import dev.renewal.order.domain.RequestValidator;
import dev.renewal.topics.Publisher;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code renewal publish}: one renewal request, or thousands from a file. */
@Command(
    name = "publish",
    mixinStandardHelpOptions = true,
    description = {
      "Publishes renewal requests to renewal.requested and prints their request ids.",
      "",
      "One certificate: --name and --domains. Many: --file requests.csv (name,domains,challenge,ca,key_type;"
          + " domains separated by spaces or ';') or requests.jsonl. Every line is validated first (the"
          + " same rules as order-service); with any invalid line nothing is published unless"
          + " --skip-invalid. Connects to kafka.bootstrap.servers and registry.url (default: renewal"
          + " stack's 127.0.0.1:9092 and :8081)."
    })
final class PublishCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ServiceOptions options;

  @Option(names = "--name", description = "Certificate name (folder name of the output).")
  String name;

  @Option(names = "--domains", split = ",", description = "DNS names, comma-separated.")
  List<String> domains;

  @Option(
      names = "--ca",
      defaultValue = "default",
      description = "CA profile (default: ${DEFAULT-VALUE}).")
  String ca;

  @Option(names = "--challenge", defaultValue = "http-01", description = "http-01 or dns-01.")
  String challenge;

  @Option(
      names = "--key-type",
      defaultValue = "ec-p256",
      description = "ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096.")
  String keyType;

  @Option(
      names = "--csr",
      description = "A PEM CSR file: the pipeline then never sees a private key.")
  Path csr;

  @Option(
      names = "--once",
      description = "Issue without managing: scheduler-service does not renew it.")
  boolean once;

  @Option(
      names = "--renew-before",
      paramLabel = "RULE",
      description =
          "Renew when this much of the lifetime is left: a duration (30d, 12h) or a percentage"
              + " (33%%). Default: the CA profile's renewal.before, else a third.")
  String renewBefore;

  @Option(
      names = "--reuse-key",
      description = "Keep the same private key when it is renewed (default: a new key each time).")
  boolean reuseKey;

  @Option(names = "--file", description = "A .csv or .jsonl file, one certificate a line.")
  Path file;

  @Option(
      names = "--skip-invalid",
      description = "Publish the valid lines of a file even if others are invalid.")
  boolean skipInvalid;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<RequestLines.Line> lines = new ArrayList<>();
    if (file != null) {
      lines.addAll(RequestLines.read(file, ca));
    } else if (name != null && domains != null && !domains.isEmpty()) {
      try {
        RenewalRequested r = RequestLines.request(name, domains, challenge, ca, keyType, ca, null);
        if (csr != null) {
          r.setCsrPem(Files.readString(csr, StandardCharsets.US_ASCII));
        }
        lines.add(new RequestLines.Line(0, r, null));
      } catch (IllegalArgumentException e) {
        lines.add(new RequestLines.Line(0, null, e.getMessage()));
      }
    } else {
      err.println("publish: give --name and --domains, or --file");
      return 2;
    }
    if (renewBefore != null) {
      try {
        dev.renewal.scheduler.domain.RenewalTime.Before.parse(renewBefore);
      } catch (IllegalArgumentException e) {
        err.println("publish: --renew-before: " + e.getMessage());
        return 2;
      }
    }
    for (RequestLines.Line line : lines) {
      if (line.request() != null) {
        line.request().setManaged(!once);
        line.request().setRenewBefore(renewBefore);
        line.request()
            .setKeyPolicy(
                reuseKey
                    ? dev.renewal.events.KeyPolicy.REUSE
                    : dev.renewal.events.KeyPolicy.ROTATE);
      }
    }
    List<RenewalRequested> valid = new ArrayList<>();
    int rejected = 0;
    for (RequestLines.Line line : lines) {
      String error = line.error();
      if (error == null) {
        RequestValidator.Outcome o =
            new RequestValidator(Set.of(line.request().getCaProfile()))
                .validate(line.request(), line.request().getRequestId());
        error = o.valid() ? null : o.detail();
      }
      if (error != null) {
        rejected++;
        err.println((line.number() > 0 ? "line " + line.number() + ": " : "") + error);
      } else {
        valid.add(line.request());
      }
    }
    if (rejected > 0 && !skipInvalid) {
      err.printf(
          "publish: %d invalid, nothing published (use --skip-invalid to publish the %d valid)%n",
          rejected, valid.size());
      return 1;
    }
    OpsContext ctx = OpsContext.load(options.settings());
    ProgressLine progress = ProgressLine.of("published", valid.size(), err);
    try (Publisher publisher = Publisher.create(ctx.kafka(), "renewal-publish")) {
      List<CompletableFuture<?>> sends = new ArrayList<>();
      for (RenewalRequested r : valid) {
        sends.add(
            publisher
                .send(ctx.topics().renewalRequested, r.getRequestId(), r)
                .whenComplete((v, e) -> progress.advance()));
        if (valid.size() == 1) {
          out.println(r.getRequestId());
        }
      }
      CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get();
    }
    if (valid.size() > 1) {
      progress.done();
    }
    if (valid.size() != 1 || file != null) {
      out.printf("published %d, rejected %d%n", valid.size(), rejected);
    }
    out.flush();
    return 0;
  }
}
