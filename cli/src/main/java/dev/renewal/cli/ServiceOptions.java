package dev.renewal.cli;

import dev.renewal.config.Settings;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** How a service command finds its configuration: file, then environment, then {@code --set}. */
final class ServiceOptions {
  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "A properties file (default: $RENEWAL_CONFIG if set). Environment variables RENEWAL_A_B"
              + " override its keys a.b.")
  Path config;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "Overrides one key, e.g. --set kafka.bootstrap.servers=127.0.0.1:9092.")
  Map<String, String> overrides = new LinkedHashMap<>();

  Settings settings() {
    return settings(Map.of());
  }

  /**
   * The settings, over {@code defaults} of the command's own (e.g. the fixed metrics port a
   * standalone service is scraped on; the library default is any free port).
   */
  Settings settings(Map<String, String> defaults) {
    Path file = config;
    if (file == null && System.getenv("RENEWAL_CONFIG") != null) {
      file = Path.of(System.getenv("RENEWAL_CONFIG"));
    }
    return Settings.load(defaults, file, System.getenv()).with(overrides);
  }
}
