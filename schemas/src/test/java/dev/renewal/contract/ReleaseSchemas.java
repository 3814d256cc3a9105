package dev.renewal.contract;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.avro.Schema;
import org.apache.avro.SchemaFormatter;

/**
 * Writes the current schema of every event, self-contained, into a release folder: {@code
 * schemas/released/vN/<Event>.avsc}. Run it when a version of the contract is released (see
 * docs/schemas.md); {@code SchemaCompatibilityTest} then holds every later change to it.
 */
public final class ReleaseSchemas {
  private ReleaseSchemas() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      throw new IllegalArgumentException(
          "usage: ReleaseSchemas <folder, e.g. schemas/released/v2>");
    }
    Path dir = Path.of(args[0]);
    Files.createDirectories(dir);
    for (Schema schema : EventTypes.contract()) {
      Path file = dir.resolve(schema.getName() + ".avsc");
      String text = SchemaFormatter.format("json/pretty", schema) + "\n";
      if (Files.exists(file)) {
        if (!Files.readString(file, StandardCharsets.UTF_8).equals(text)) {
          throw new IllegalStateException(file + " differs: a released schema is never rewritten");
        }
        continue;
      }
      Files.writeString(file, text, StandardCharsets.UTF_8);
    }
  }
}
