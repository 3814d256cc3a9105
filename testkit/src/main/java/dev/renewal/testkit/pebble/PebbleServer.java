package dev.renewal.testkit.pebble;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.renewal.infra.kafka.EmbeddedKafka;
import dev.renewal.tls.TrustedCertificates;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pebble, the ACME test CA from Debian's {@code pebble} package, with {@code pebble-challtestsrv}
 * as its DNS server, so that every name resolves to 127.0.0.1 and Pebble's validator fetches
 * HTTP-01 tokens from {@code http://<name>:<httpPort>/.well-known/acme-challenge/<token>} — where
 * our challenge responder listens. All ports are free ports on 127.0.0.1, picked at start, so
 * tests, the demo and a second checkout never clash.
 *
 * <p>Clients reach Pebble through {@link PebbleGuard} (the {@link #directoryUrl()} is the guard's),
 * which keeps apart the requests that wedge Pebble 2.4.0 when they meet; {@link
 * Options#unguarded()} leaves it out, to show the wedge.
 */
public final class PebbleServer implements AutoCloseable {
  private static final Logger LOGGER = LoggerFactory.getLogger(PebbleServer.class);

  /** What to start and how. */
  public record Options(
      Path workDir,
      int httpPort,
      Map<String, String> environment,
      Duration startTimeout,
      boolean guarded,
      Duration certificateValidity,
      Map<String, String> externalAccountMacKeys) {

    /** Real validation without Pebble's random sleeps; Pebble's own nonce and reuse chaos on. */
    public static Options defaults(Path workDir, int httpPort) {
      return new Options(
          workDir,
          httpPort,
          Map.of("PEBBLE_VA_NOSLEEP", "1"),
          Duration.ofSeconds(20),
          true,
          Duration.ZERO,
          Map.of());
    }

    public Options withEnvironment(Map<String, String> extra) {
      Map<String, String> env = new LinkedHashMap<>(environment);
      env.putAll(extra);
      return new Options(
          workDir,
          httpPort,
          env,
          startTimeout,
          guarded,
          certificateValidity,
          externalAccountMacKeys);
    }

    /** Clients talk to Pebble itself, without {@link PebbleGuard}: it can wedge. */
    public Options unguarded() {
      return new Options(
          workDir,
          httpPort,
          environment,
          startTimeout,
          false,
          certificateValidity,
          externalAccountMacKeys);
    }

    /**
     * Certificates valid for {@code validity} (Pebble's {@code certificateValidityPeriod}, whole
     * seconds; zero: Pebble's default of five years), for renewal tests.
     */
    public Options withCertificateValidity(Duration validity) {
      return new Options(
          workDir, httpPort, environment, startTimeout, guarded, validity, externalAccountMacKeys);
    }

    /**
     * Pebble requires external account binding ({@code externalAccountBindingRequired}) with these
     * MAC keys by key id ({@code externalAccountMACKeys}: base64url, as a CA hands them out).
     */
    public Options requiringExternalAccountBinding(Map<String, String> macKeys) {
      return new Options(
          workDir,
          httpPort,
          environment,
          startTimeout,
          guarded,
          certificateValidity,
          Map.copyOf(macKeys));
    }
  }

  private final Process pebble;
  private final Process challtestsrv;
  private final int port;
  private final int managementPort;
  private final int challtestsrvManagementPort;
  private final int dnsPort;
  private final TlsMaterial tls;
  private final SSLContext sslContext;
  private volatile FaultyAcmeProxy guard;

  private PebbleServer(
      Process pebble,
      Process challtestsrv,
      int port,
      int managementPort,
      int challtestsrvManagementPort,
      int dnsPort,
      TlsMaterial tls,
      SSLContext sslContext) {
    this.pebble = pebble;
    this.challtestsrv = challtestsrv;
    this.port = port;
    this.managementPort = managementPort;
    this.challtestsrvManagementPort = challtestsrvManagementPort;
    this.dnsPort = dnsPort;
    this.tls = tls;
    this.sslContext = sslContext;
  }

  /** The {@code pebble} binary: {@code RENEWAL_PEBBLE_BIN}, else on the PATH, else /usr/bin. */
  public static Path pebbleBinary() {
    return binary("RENEWAL_PEBBLE_BIN", "pebble");
  }

  /** True when Debian's {@code pebble} package (both binaries) is installed. */
  public static boolean installed() {
    return Files.isExecutable(pebbleBinary())
        && Files.isExecutable(binary("RENEWAL_CHALLTESTSRV_BIN", "pebble-challtestsrv"));
  }

  /** The command that installs Pebble on Debian. */
  public static final String INSTALL_HINT = "sudo apt-get update && sudo apt-get install -y pebble";

  private static Path binary(String env, String name) {
    String configured = System.getenv(env);
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      Path candidate = Path.of(dir, name);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return Path.of("/usr/bin", name);
  }

  /** Starts challtestsrv and Pebble and waits until Pebble serves its directory. */
  public static PebbleServer start(Options options) {
    if (!installed()) {
      throw new IllegalStateException(
          "Pebble is not installed (Debian package 'pebble'); install it with: " + INSTALL_HINT);
    }
    Process challtestsrv = null;
    Process pebble = null;
    try {
      Path dir = options.workDir();
      Files.createDirectories(dir);
      TlsMaterial tls = TlsMaterial.generate(dir.resolve("tls"));
      int[] ports = EmbeddedKafka.freePorts(5);
      int port = ports[0];
      int managementPort = ports[1];
      int dnsPort = ports[2];
      int challManagement = ports[3];
      int tlsPort = ports[4];

      challtestsrv =
          new ProcessBuilder(
                  binary("RENEWAL_CHALLTESTSRV_BIN", "pebble-challtestsrv").toString(),
                  "-defaultIPv4",
                  "127.0.0.1",
                  "-defaultIPv6",
                  "",
                  "-dns01",
                  "127.0.0.1:" + dnsPort,
                  "-management",
                  "127.0.0.1:" + challManagement,
                  "-http01",
                  "",
                  "-https01",
                  "",
                  "-tlsalpn01",
                  "")
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("challtestsrv.log").toFile())
              .start();

      ObjectMapper json = new ObjectMapper();
      ObjectNode config = json.createObjectNode();
      ObjectNode p = config.putObject("pebble");
      p.put("listenAddress", "127.0.0.1:" + port);
      p.put("managementListenAddress", "127.0.0.1:" + managementPort);
      p.put("certificate", tls.serverCertificate().toString());
      p.put("privateKey", tls.serverKey().toString());
      p.put("httpPort", options.httpPort());
      p.put("tlsPort", tlsPort);
      p.put("ocspResponderURL", "");
      p.put("externalAccountBindingRequired", !options.externalAccountMacKeys().isEmpty());
      if (!options.externalAccountMacKeys().isEmpty()) {
        ObjectNode keys = p.putObject("externalAccountMACKeys");
        options.externalAccountMacKeys().forEach(keys::put);
      }
      if (!options.certificateValidity().isZero()) {
        p.put("certificateValidityPeriod", options.certificateValidity().toSeconds());
      }
      Path configFile = dir.resolve("pebble-config.json");
      Files.writeString(
          configFile, json.writerWithDefaultPrettyPrinter().writeValueAsString(config));

      ProcessBuilder builder =
          new ProcessBuilder(
                  pebbleBinary().toString(),
                  "-config",
                  configFile.toString(),
                  "-dnsserver",
                  "127.0.0.1:" + dnsPort)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("pebble.log").toFile());
      builder.environment().putAll(options.environment());
      pebble = builder.start();

      SSLContext ssl = TrustedCertificates.sslContext(tls.caCertificate());
      PebbleServer server =
          new PebbleServer(
              pebble, challtestsrv, port, managementPort, challManagement, dnsPort, tls, ssl);
      server.awaitReady(options.startTimeout(), dir);
      if (options.guarded()) {
        try {
          server.guard =
              FaultyAcmeProxy.start(
                  "pebble guard",
                  server.pebbleUrl().resolve("/"),
                  tls.caCertificate(),
                  tls,
                  new PebbleGuard(Duration.ofSeconds(30)));
        } catch (java.security.GeneralSecurityException e) {
          throw new IOException("cannot start the guard in front of Pebble: " + e, e);
        }
      }
      LOGGER.info(
          "pebble started: directory={} httpPort={} dns=127.0.0.1:{} env={}",
          server.directoryUrl(),
          options.httpPort(),
          dnsPort,
          options.environment());
      return server;
    } catch (IOException | RuntimeException e) {
      if (pebble != null) {
        pebble.destroyForcibly();
      }
      if (challtestsrv != null) {
        challtestsrv.destroyForcibly();
      }
      throw new IllegalStateException("cannot start Pebble: " + e.getMessage(), e);
    }
  }

  private void awaitReady(Duration timeout, Path dir) throws IOException {
    HttpClient http = httpClient();
    long deadline = System.nanoTime() + timeout.toNanos();
    IOException last = null;
    while (System.nanoTime() < deadline) {
      if (!pebble.isAlive()) {
        throw new IOException("pebble exited: " + Files.readString(dir.resolve("pebble.log")));
      }
      if (!challtestsrv.isAlive()) {
        throw new IOException(
            "pebble-challtestsrv exited: " + Files.readString(dir.resolve("challtestsrv.log")));
      }
      try {
        HttpResponse<String> dirResponse =
            http.send(
                HttpRequest.newBuilder(pebbleUrl()).timeout(Duration.ofSeconds(2)).build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> chall =
            http.send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + challtestsrvManagementPort + "/"))
                    .timeout(Duration.ofSeconds(2))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (dirResponse.statusCode() == 200 && chall.statusCode() > 0) {
          return;
        }
      } catch (IOException e) {
        last = e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted waiting for Pebble", e);
      }
      try {
        TimeUnit.MILLISECONDS.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted waiting for Pebble", e);
      }
    }
    throw new IOException("Pebble did not answer within " + timeout, last);
  }

  /** Pebble's process id (for its memory in benchmarks). */
  public long pid() {
    return pebble.pid();
  }

  /** An HTTP client that trusts this Pebble's TLS certificate. */
  public HttpClient httpClient() {
    return HttpClient.newBuilder()
        .sslContext(sslContext)
        .connectTimeout(Duration.ofSeconds(2))
        .build();
  }

  /** The ACME directory URL clients use: the guard's, or Pebble's own when unguarded. */
  public URI directoryUrl() {
    return guard == null ? pebbleUrl() : guard.directoryUrl();
  }

  /** What Pebble was asked through its guard so far (nothing is counted when unguarded). */
  public FaultyAcmeProxy.Load load() {
    FaultyAcmeProxy g = guard;
    return g == null ? new FaultyAcmeProxy.Load(0, 0, System.nanoTime()) : g.load();
  }

  /** Pebble's own directory URL, behind the guard. */
  private URI pebbleUrl() {
    return URI.create("https://127.0.0.1:" + port + "/dir");
  }

  /** The CA certificate (PEM) that Pebble's HTTPS certificate chains to: what clients trust. */
  public Path trustPem() {
    return tls.caCertificate();
  }

  /** Pebble's management interface (roots, intermediates, certificate status). */
  public URI managementUrl() {
    return URI.create("https://127.0.0.1:" + managementPort);
  }

  /**
   * pebble-challtestsrv's management interface (set-txt, add-a, servfail, ...), for {@code
   * ChalltestsrvDnsProvider}.
   */
  public URI challtestsrvUrl() {
    return URI.create("http://127.0.0.1:" + challtestsrvManagementPort);
  }

  /** The DNS server Pebble resolves names with. */
  public String dnsServer() {
    return "127.0.0.1:" + dnsPort;
  }

  /** Pebble's root certificate for the certificates it issues (PEM); changes at each start. */
  public String issuingRootPem() {
    return management("/roots/0");
  }

  /**
   * What Pebble's management interface says of the certificate {@code serial} (hexadecimal): its
   * JSON ({@code Status} Valid or Revoked, {@code Reason}, {@code RevokedAt}), or empty when Pebble
   * does not know it.
   */
  public java.util.Optional<String> certificateStatus(String serial) {
    String body = management("/cert-status-by-serial/" + serial);
    return body.isBlank() ? java.util.Optional.empty() : java.util.Optional.of(body);
  }

  private String management(String path) {
    try {
      HttpResponse<String> response =
          httpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(managementUrl() + path))
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      return response.body();
    } catch (IOException e) {
      throw new IllegalStateException("pebble management " + path + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public void close() {
    if (guard != null) {
      guard.close();
      guard = null;
    }
    List<Process> processes = new ArrayList<>(List.of(pebble, challtestsrv));
    for (Process process : processes) {
      process.destroy();
    }
    for (Process process : processes) {
      try {
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
  }
}
