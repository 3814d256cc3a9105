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
    for (Schema schema : EventTypes.schemas()) {
      Path file = dir.resolve(schema.getName() + ".avsc");
      if (Files.exists(file)) {
        throw new IllegalStateException(file + " exists: a released schema is never rewritten");
      }
      Files.writeString(
          file, SchemaFormatter.format("json/pretty", schema) + "\n", StandardCharsets.UTF_8);
    }
  }
}
