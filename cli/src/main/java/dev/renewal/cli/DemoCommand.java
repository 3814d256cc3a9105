package dev.renewal.cli;

import dev.renewal.challenge.ChallengeServiceApp;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.RenewalDue;
import dev.renewal.events.RenewalRequested;
import dev.renewal.finalize.FinalizeServiceApp;
import dev.renewal.infra.EmbeddedStack;
import dev.renewal.local.LocalPipeline;
import dev.renewal.order.OrderServiceApp;
import dev.renewal.scheduler.SchedulerServiceApp;
import dev.renewal.testkit.pebble.FaultyAcmeProxy;
import dev.renewal.testkit.pebble.PebbleServer;
import dev.renewal.topics.Publisher;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code renewal demo}: the whole pipeline on this machine, one certificate end to end. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Issues a certificate end to end on this machine, showing every stage.",
      "",
      "Starts a Kafka broker, the schema registry, Pebble (a real ACME CA, Debian package"
          + " 'pebble') with pebble-challtestsrv as its DNS, and the three services; publishes a"
          + " renewal request for demo names; prints each event as it arrives (requested, order"
          + " placed, challenge triggered, authorization valid, reconciled, finalized, issued);"
          + " then the certificate and where its files are. Cleans up on exit unless --keep."
    })
final class DemoCommand implements Callable<Integer> {
  /** The misbehaviours of docs/acme-quirks.md the demo can show, through FaultyAcmeProxy. */
  enum Quirk {
    none,
    /** case 1: the challenge trigger answers invalid while the CA goes on validating. */
    keyfactor,
    /** case 2: the challenge stays processing, with an error and Retry-After, for 4 s. */
    processing,
    /** case 3: the order stays processing after finalize for 8 s, Retry-After 1. */
    slow_order,
    /** case 4: the first finalize answers orderNotReady. */
    not_ready,
    /** case 7: the first newOrder answers 429 with Retry-After 3. */
    rate_limited
  }

  @Spec CommandSpec spec;

  @Option(
      names = "--names",
      defaultValue = "2",
      description = "How many DNS names (default: ${DEFAULT-VALUE}).")
  int names;

  @Option(
      names = "--challenge",
      defaultValue = "http-01",
      description =
          "http-01 (real HTTP validation) or dns-01 (TXT records in challtestsrv, with a wildcard).")
  String challenge;

  @Option(
      names = "--quirk",
      defaultValue = "none",
      description =
          "keyfactor: the CA answers the challenge trigger with 'invalid' while it goes on validating (the seed story).")
  Quirk quirk;

  @Option(names = "--keep", description = "Keep everything running afterwards, until Ctrl-C.")
  boolean keep;

  @Option(
      names = "--lifetime",
      paramLabel = "DURATION",
      description =
          "Issue certificates valid this long (e.g. 60s) and stay until scheduler-service has"
              + " renewed the first one by itself.")
  String lifetime;

  @Option(
      names = "--work-dir",
      defaultValue = "${env:RENEWAL_WORK_DIR:-.renewal}/demo",
      description = "Where data, keys and certificates go (default: ${DEFAULT-VALUE}).")
  Path workDir;

  @Option(
      names = "--timeout",
      defaultValue = "120s",
      description = "Give up after this long (default: ${DEFAULT-VALUE}).")
  String timeout;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (!LocalPipeline.ensurePebble(out)) {
      return Unreachable.EXIT;
    }
    Duration validity = Duration.ZERO;
    if (lifetime != null) {
      try {
        validity = StatusCommand.duration(lifetime);
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), "--lifetime: not a duration (60s, 5m, 1h): " + lifetime);
      }
      if (validity.compareTo(Duration.ofSeconds(20)) < 0) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), "--lifetime: at least 20s, so that a renewal has time to run");
      }
    }
    ChallengeType type =
        challenge.equalsIgnoreCase("dns-01") ? ChallengeType.DNS_01 : ChallengeType.HTTP_01;
    Path run = workDir.resolve("run-" + Instant.now().toString().replace(":", ""));
    if (Logs.configured()) {
      // Run from the command line: this run's log lines go to its folder.
      Logs.toFile(run.resolve("renewal.log"));
    }
    long started = System.nanoTime();
    out.println(
        "renewal demo: one certificate requested as an event and issued through the whole"
            + " pipeline, on this machine.");
    out.println(
        "A Kafka broker, a schema registry, Pebble (a real ACME CA) and the four services start;"
            + " a renewal request");
    out.println(
        "is published; each step below is an event on a Kafka topic, printed as it arrives"
            + " (as `renewal status` prints it).");
    if (quirk != Quirk.none) {
      out.println("The CA misbehaves on purpose (--quirk " + quirk + "): " + explain(quirk));
    }
    out.println();
    out.println("Starting ...");
    out.flush();
    LocalPipeline local =
        LocalPipeline.start("demo", run, Map.of("PEBBLE_AUTHZREUSE", "0"), validity);
    try {
      EmbeddedStack kafka = local.kafka();
      PebbleServer pebble = local.pebble();
      URI directory = pebble.directoryUrl();
      Path trust = pebble.trustPem();
      if (quirk != Quirk.none) {
        FaultyAcmeProxy proxy = local.keep(FaultyAcmeProxy.start(pebble, run.resolve("proxy")));
        switch (quirk) {
          case keyfactor -> proxy.with(FaultyAcmeProxy.challengeTriggerAnswersInvalid());
          case processing ->
              proxy.replace(FaultyAcmeProxy.challengeProcessingFor(Duration.ofSeconds(4)));
          case slow_order ->
              proxy.replace(FaultyAcmeProxy.orderProcessingFor(Duration.ofSeconds(8)));
          case not_ready -> proxy.intercept(FaultyAcmeProxy.finalizeAnswersOrderNotReadyOnce());
          case rate_limited -> proxy.intercept(FaultyAcmeProxy.rateLimitNewOrders(1, () -> "3"));
          default -> {}
        }
        directory = proxy.directoryUrl();
        trust = proxy.trustPem();
      }
      Map<String, String> s = local.settings(directory, trust);
      s.put("finalize.grace", "30s");
      if (type == ChallengeType.DNS_01) {
        s.put("challenge.dns.provider", "challtestsrv");
        s.put("challenge.dns.challtestsrv.url", pebble.challtestsrvUrl().toString());
        s.put("challenge.dns.resolver", pebble.dnsServer());
      }
      LocalPipeline.Services services = local.startServices(s);
      SchedulerServiceApp scheduler = local.startScheduler(s);
      OrderServiceApp orders = services.orders();
      ChallengeServiceApp challenges = services.challenges();
      FinalizeServiceApp finalize = services.finalizer();
      out.printf("  kafka bootstrap   %s%n", kafka.bootstrapServers());
      out.printf("  schema registry   %s%n", kafka.registryUrl());
      out.printf(
          "  ACME directory    %s%s%n",
          directory,
          quirk == Quirk.none
              ? ""
              : "  (through a proxy that makes the CA misbehave: " + quirk + ")");
      out.printf(
          "  metrics           %s %s %s %s%n",
          orders.metricsUri().orElseThrow(),
          challenges.metricsUri().orElseThrow(),
          finalize.metricsUri().orElseThrow(),
          scheduler.metricsUri().orElseThrow());
      out.printf("  ready in %.1f s%n%n", (System.nanoTime() - started) / 1e9);

      List<String> dnsNames = new ArrayList<>();
      if (type == ChallengeType.DNS_01) {
        dnsNames.add("*.demo.example");
      }
      String[] hosts = {
        "www", "api", "shop", "mail", "cdn", "app", "blog", "docs", "status", "admin"
      };
      for (int i = 0; dnsNames.size() < Math.max(1, names); i++) {
        dnsNames.add((i < hosts.length ? hosts[i] : "host" + i) + ".demo.example");
      }
      String id = UUID.randomUUID().toString();
      RenewalRequested request =
          RenewalRequested.newBuilder()
              .setEventId(UUID.randomUUID().toString())
              .setRequestId(id)
              .setOccurredAt(Instant.now())
              .setCertificateName("demo")
              .setDnsNames(dnsNames)
              .setChallengeType(type)
              .setCaProfile("demo")
              .build();
      out.println("Renewal request " + id + ":");
      out.flush();
      try (Publisher publisher = Publisher.create(kafka.clientProps(), "renewal-demo")) {
        publisher.send(kafka.topics().renewalRequested, id, request).get();
      }
      Progress.Outcome outcome =
          new Progress(kafka.clientProps(), kafka.topics(), out)
              .follow(id, Duration.parse("PT" + timeout.toUpperCase()));
      out.println();
      int rc;
      if (outcome.issued().isPresent()) {
        CertificateIssued c = outcome.issued().get();
        Path folder = run.resolve("certificates").resolve(c.getCertificateName()).toAbsolutePath();
        out.println(
            "Certificate issued in "
                + String.format("%.1f s", (System.nanoTime() - started) / 1e9)
                + " (since start):");
        out.println("  names        " + c.getDnsNames());
        out.println("  serial       " + c.getSerialNumber());
        out.println("  valid        " + c.getNotBefore() + " .. " + c.getNotAfter());
        out.println("  issuer       " + c.getIssuer());
        out.println("  files        " + folder + "/{cert.pem,chain.pem,fullchain.pem,privkey.pem}");
        if (outcome.contradictions() > 0) {
          out.println(
              "  reconciled   "
                  + outcome.contradictions()
                  + " contradiction(s): the CA said 'invalid' to a challenge, its authorization"
                  + " turned valid, and the pipeline went on instead of aborting");
        }
        rc = lifetime == null ? 0 : renewal(kafka, c, out);
      } else if (outcome.failed().isPresent()) {
        out.println("The renewal failed: " + Progress.describe(outcome.failed().get()));
        rc = 1;
      } else {
        out.println(
            "No outcome within "
                + timeout
                + "; the services' log lines say why: "
                + Logs.file().map(f -> f.toAbsolutePath().toString()).orElse("stderr"));
        rc = 1;
      }
      out.println();
      if (keep) {
        // What the commands below need to reach this run's broker and registry.
        Path config = run.resolve("renewal.properties").toAbsolutePath();
        java.nio.file.Files.writeString(
            config,
            "kafka.bootstrap.servers="
                + kafka.bootstrapServers()
                + "\nregistry.url="
                + kafka.registryUrl()
                + "\n");
        out.println("Try next, in another terminal, while this runs (Ctrl-C stops it):");
        out.println("  ./renewal status " + id + " --config " + config);
        out.println("  ./renewal certificates --config " + config);
        out.println("  ./renewal status --summary --config " + config);
        out.println("  ./renewal replay --all-retryable --dry-run --config " + config);
        out.println(
            "  kcat -b "
                + kafka.bootstrapServers()
                + " -C -t acme.authorization.reconciled -s value=avro -r "
                + kafka.registryUrl()
                + " -e");
        out.println("  " + KafkaUi.lines(kafka.bootstrapServers(), kafka.registryUrl()));
      } else {
        out.println(
            "Try next: ./renewal demo --quirk keyfactor (the CA says 'invalid' and is wrong),"
                + " ./renewal demo --lifetime 60s");
        out.println(
            "(a renewal by itself), ./renewal demo --keep (keeps it running, with the commands"
                + " and addresses to look at it).");
      }
      Logs.file().ifPresent(f -> out.println("The services' log lines: " + f.toAbsolutePath()));
      out.flush();
      if (keep) {
        out.println("Running until Ctrl-C (--keep).");
        out.flush();
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime()
            .addShutdownHook(
                new Thread(
                    () -> {
                      local.close();
                      stop.countDown();
                    }));
        stop.await();
      }
      return rc;
    } finally {
      if (!keep) {
        local.close();
      }
    }
  }

  private static String explain(Quirk q) {
    return switch (q) {
      case keyfactor ->
          "the challenge trigger is answered 'invalid' while the CA goes on validating (the"
              + " seed story).";
      case processing -> "the challenge stays processing, with an error and Retry-After, for 4 s.";
      case slow_order -> "the order stays processing after finalize for 8 s (Retry-After 1).";
      case not_ready -> "the first finalize is answered orderNotReady.";
      case rate_limited -> "the first newOrder is answered 429 with Retry-After 3.";
      default -> "";
    };
  }

  /**
   * With {@code --lifetime}: waits for scheduler-service to decide the renewal of {@code first}
   * (its {@code RenewalDue}), narrates it and follows the renewal's request to its certificate.
   */
  private int renewal(EmbeddedStack kafka, CertificateIssued first, PrintWriter out)
      throws Exception {
    out.println();
    out.println(
        "Managed: scheduler-service renews it when half of its "
            + lifetime
            + " lifetime is left (a third for lifetimes of 10 days and more) ...");
    out.flush();
    // Committed decisions only (the scheduler writes them in transactions); a record that
    // cannot be decoded is skipped.
    RenewalDue due =
        new dev.renewal.topics.TopicReader(kafka.clientProps())
                .await(
                    kafka.topics().due,
                    r ->
                        r.value() != null
                            && first.getSerialNumber().equals(r.value().getReplacesSerial()),
                    1,
                    Duration.between(first.getNotBefore(), first.getNotAfter()).plusSeconds(60))
                .stream()
                .findFirst()
                .map(org.apache.kafka.clients.consumer.ConsumerRecord::value)
                .orElse(null);
    if (due == null || due.getRenewalRequestId() == null) {
      out.println(
          "No renewal was decided in time; scheduler-service's log lines say why: "
              + Logs.file().map(f -> f.toAbsolutePath().toString()).orElse("stderr"));
      return 1;
    }
    out.printf(
        "Renewal due (%s) at %s: serial %s expires %s; new request %s:%n",
        due.getReason(),
        due.getOccurredAt(),
        due.getReplacesSerial(),
        due.getNotAfter(),
        due.getRenewalRequestId());
    out.flush();
    Progress.Outcome renewed =
        new Progress(kafka.clientProps(), kafka.topics(), out)
            .follow(due.getRenewalRequestId(), Duration.parse("PT" + timeout.toUpperCase()));
    out.println();
    if (renewed.issued().isEmpty()) {
      out.println(
          "The renewal did not issue: "
              + renewed.failed().map(Progress::describe).orElse("no outcome in time"));
      return 1;
    }
    CertificateIssued c = renewed.issued().get();
    out.println("Renewed by itself, no operator action:");
    out.println("  serial       " + c.getSerialNumber() + " (was " + first.getSerialNumber() + ")");
    out.println("  valid        " + c.getNotBefore() + " .. " + c.getNotAfter());
    out.println(
        "  key          "
            + (java.util.Objects.equals(c.getKeyRef(), first.getKeyRef())
                ? "the same"
                : "a new one")
            + " ("
            + c.getKeyRef()
            + ")");
    out.flush();
    return 0;
  }
}
