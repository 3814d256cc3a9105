package dev.renewal.local.bench;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * certbot and lego (the Debian packages) against the same Pebble, one certificate at a time, each
 * answering HTTP-01 on Pebble's validation port itself (certbot --standalone, lego --http).
 */
public final class PeerClients {
  private final URI directory;
  private final Path trust;
  private final int httpPort;
  private final Path workDir;

  public PeerClients(URI directory, Path trust, int httpPort, Path workDir) {
    this.directory = directory;
    this.trust = trust;
    this.httpPort = httpPort;
    this.workDir = workDir;
  }

  public boolean installed(String peer) {
    return Files.isExecutable(Path.of("/usr/bin", peer));
  }

  /** One certificate per name, one after the other; each outcome with its wall time. */
  public List<DirectClient.Result> run(String peer, List<String> names)
      throws IOException, InterruptedException {
    Path dir = workDir.resolve(peer);
    Files.createDirectories(dir);
    List<DirectClient.Result> results = new ArrayList<>();
    for (String name : names) {
      List<String> cmd =
          peer.equals("certbot")
              ? List.of(
                  "certbot",
                  "certonly",
                  "--standalone",
                  "--non-interactive",
                  "--agree-tos",
                  "--register-unsafely-without-email",
                  "--server",
                  directory.toString(),
                  "--http-01-port",
                  String.valueOf(httpPort),
                  "--http-01-address",
                  "127.0.0.1",
                  "--config-dir",
                  dir.resolve("config").toString(),
                  "--work-dir",
                  dir.resolve("work").toString(),
                  "--logs-dir",
                  dir.resolve("logs").toString(),
                  "-d",
                  name)
              : List.of(
                  "lego",
                  "--server",
                  directory.toString(),
                  "--accept-tos",
                  "--email",
                  "bench@example.com",
                  "--domains",
                  name,
                  "--http",
                  "--http.port",
                  "127.0.0.1:" + httpPort,
                  "--path",
                  dir.toString(),
                  "run");
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("output.log").toFile()));
      Map<String, String> env = pb.environment();
      env.put("REQUESTS_CA_BUNDLE", trust.toString());
      env.put("LEGO_CA_CERTIFICATES", trust.toString());
      long started = System.nanoTime();
      Process p = pb.start();
      String error = null;
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        error = peer + " did not finish in 5 minutes";
      } else if (p.exitValue() != 0) {
        error = peer + " exited with " + p.exitValue() + " (see " + dir.resolve("output.log") + ")";
      }
      results.add(new DirectClient.Result(name, started, System.nanoTime(), error));
    }
    return results;
  }
}
