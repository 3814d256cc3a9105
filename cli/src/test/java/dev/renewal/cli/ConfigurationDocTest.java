package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.acme.CaProfiles;
import dev.renewal.acme.ServiceContext;
import dev.renewal.challenge.ChallengeServiceApp;
import dev.renewal.finalize.FinalizeServiceApp;
import dev.renewal.order.OrderServiceApp;
import dev.renewal.topics.Topics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md's table against the code's defaults: every default the services read is
 * documented, and every default the table states is the one the code uses (the table once said 100
 * ms for the poll intervals the code had long set to 20 ms).
 */
class ConfigurationDocTest {
  private static final Pattern CODE = Pattern.compile("`([^`]*)`");

  /** Every built-in default, keyed as the table writes it ({@code ca.<name>.*}). */
  private static Map<String, String> codeDefaults() {
    Map<String, String> all = new TreeMap<>();
    all.putAll(ServiceContext.DEFAULTS);
    all.putAll(Topics.DEFAULTS);
    all.putAll(OrderServiceApp.DEFAULTS);
    all.putAll(ChallengeServiceApp.DEFAULTS);
    all.putAll(FinalizeServiceApp.DEFAULTS);
    all.putAll(dev.renewal.scheduler.SchedulerServiceApp.DEFAULTS);
    CaProfiles.defaults("x")
        .forEach((k, v) -> all.put(k.replaceFirst("^ca\\.x\\.", "ca.<name>."), v));
    // documented in docs/metrics.md, with the metrics endpoint
    all.keySet()
        .removeIf(k -> k.matches("(order|challenge|finalize|scheduler)\\.metrics\\.(host|port)"));
    return all;
  }

  /** The table's rows: each key (suffix forms like {@code `.max`} expanded) → the cell's values. */
  private static Map<String, List<String>> readmeRows() throws IOException {
    Path root = Path.of("").toAbsolutePath();
    while (!Files.exists(root.resolve("README.md"))) {
      root = root.getParent();
    }
    String section = Files.readString(root.resolve("docs").resolve("configuration.md"));
    Map<String, List<String>> rows = new LinkedHashMap<>();
    for (String line : section.split("\n")) {
      if (!line.startsWith("| `")) {
        continue;
      }
      String[] cells = line.split("\\|");
      List<String> keys = new ArrayList<>();
      for (String k : codes(cells[1])) {
        if (k.startsWith(".") && !keys.isEmpty()) {
          String first = keys.get(0);
          int segments = k.split("\\.").length - 1;
          String base = first;
          for (int i = 0; i < segments; i++) {
            base = base.substring(0, base.lastIndexOf('.'));
          }
          keys.add(base + k);
        } else {
          keys.add(k);
        }
      }
      List<String> values = codes(cells[2]);
      for (int i = 0; i < keys.size(); i++) {
        rows.put(keys.get(i), values.size() == keys.size() ? List.of(values.get(i)) : values);
      }
    }
    return rows;
  }

  private static List<String> codes(String cell) {
    List<String> found = new ArrayList<>();
    Matcher m = CODE.matcher(cell);
    while (m.find()) {
      found.add(m.group(1));
    }
    return found;
  }

  @Test
  void everyDefaultOfTheCodeIsInTheTable() throws IOException {
    assertThat(readmeRows().keySet()).containsAll(codeDefaults().keySet());
  }

  @Test
  void everyDefaultTheTableStatesIsTheCodes() throws IOException {
    Map<String, List<String>> rows = readmeRows();
    Map<String, String> code = codeDefaults();
    int checked = 0;
    for (Map.Entry<String, String> d : code.entrySet()) {
      List<String> stated = rows.get(d.getKey());
      if (d.getValue().isEmpty()) {
        continue; // e.g. topics.prefix: the table says "(none)"
      }
      assertThat(stated)
          .as("docs/configuration.md's default of %s", d.getKey())
          .contains(d.getValue());
      checked++;
    }
    assertThat(checked).isGreaterThan(30);
  }
}
