package dev.renewal.infra.registry;

import java.util.List;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;

/**
 * Confluent's compatibility levels, checked with Avro's own {@link SchemaCompatibility}. BACKWARD:
 * consumers on the new schema read data written with the previous one; FORWARD: consumers on the
 * previous schema read data written with the new one; FULL: both. The TRANSITIVE levels check every
 * earlier version, not just the latest.
 */
public enum CompatibilityLevel {
  NONE(false, false, false),
  BACKWARD(true, false, false),
  BACKWARD_TRANSITIVE(true, false, true),
  FORWARD(false, true, false),
  FORWARD_TRANSITIVE(false, true, true),
  FULL(true, true, false),
  FULL_TRANSITIVE(true, true, true);

  private final boolean backward;
  private final boolean forward;
  private final boolean transitive;

  CompatibilityLevel(boolean backward, boolean forward, boolean transitive) {
    this.backward = backward;
    this.forward = forward;
    this.transitive = transitive;
  }

  public static Optional<CompatibilityLevel> parse(String text) {
    if (text == null) {
      return Optional.empty();
    }
    for (CompatibilityLevel level : values()) {
      if (level.name().equalsIgnoreCase(text.trim())) {
        return Optional.of(level);
      }
    }
    return Optional.empty();
  }

  /**
   * Every incompatibility of {@code candidate} with {@code existing} (oldest first) at this level;
   * empty when compatible.
   */
  public List<String> check(Schema candidate, List<Schema> existing) {
    if (existing.isEmpty() || this == NONE) {
      return List.of();
    }
    List<Schema> against = transitive ? existing : List.of(existing.get(existing.size() - 1));
    java.util.ArrayList<String> problems = new java.util.ArrayList<>();
    for (Schema previous : against) {
      if (backward) {
        describe(
            SchemaCompatibility.checkReaderWriterCompatibility(candidate, previous),
            "BACKWARD",
            problems);
      }
      if (forward) {
        describe(
            SchemaCompatibility.checkReaderWriterCompatibility(previous, candidate),
            "FORWARD",
            problems);
      }
    }
    return problems;
  }

  private static void describe(
      SchemaCompatibility.SchemaPairCompatibility result, String direction, List<String> out) {
    if (result.getType() == SchemaCompatibilityType.COMPATIBLE) {
      return;
    }
    for (SchemaCompatibility.Incompatibility i : result.getResult().getIncompatibilities()) {
      out.add(
          "{errorType:'"
              + i.getType()
              + "', description:'"
              + i.getMessage()
              + "', location:'"
              + i.getLocation()
              + "', direction:'"
              + direction
              + "'}");
    }
  }
}
