package dev.renewal.infra.registry;

import static dev.renewal.registry.SchemaRegistryException.INCOMPATIBLE;
import static dev.renewal.registry.SchemaRegistryException.INVALID_COMPATIBILITY_LEVEL;
import static dev.renewal.registry.SchemaRegistryException.INVALID_SCHEMA;
import static dev.renewal.registry.SchemaRegistryException.INVALID_VERSION;
import static dev.renewal.registry.SchemaRegistryException.SCHEMA_NOT_FOUND;
import static dev.renewal.registry.SchemaRegistryException.SUBJECT_NOT_FOUND;
import static dev.renewal.registry.SchemaRegistryException.SUBJECT_NOT_SOFT_DELETED;
import static dev.renewal.registry.SchemaRegistryException.SUBJECT_SOFT_DELETED;
import static dev.renewal.registry.SchemaRegistryException.VERSION_NOT_FOUND;
import static dev.renewal.registry.SchemaRegistryException.VERSION_NOT_SOFT_DELETED;
import static dev.renewal.registry.SchemaRegistryException.VERSION_SOFT_DELETED;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.renewal.registry.SchemaRegistryException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * The registry's state: subjects and their versions, schemas by global id, and compatibility
 * levels. Every change is written to the {@link SchemaLog} before it is applied, and the state is
 * rebuilt from the log on start, so that ids never change across restarts.
 *
 * <p>The log records follow Confluent's {@code _schemas} layout: key {@code
 * {"keytype":"SCHEMA","subject":…,"version":…,"magic":1}} with value {@code
 * {"subject","version","id","schema","deleted"}}, and key {@code {"keytype":"CONFIG","subject":…}}
 * with value {@code {"compatibilityLevel":…}}.
 *
 * <p>Deletion is Confluent's: a version or a whole subject is first soft-deleted (its record
 * written again with {@code "deleted":true}: hidden from listings and look-ups but for {@code
 * ?deleted=true}, its id still resolves), then may be deleted permanently (a tombstone for its
 * key). A permanent delete of what was not soft-deleted first is refused, as is soft-deleting
 * twice.
 */
public final class SchemaStore {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One registered version of a subject; soft-deleted when {@code deleted}. */
  public record Version(String subject, int version, int id, String schema, boolean deleted) {
    Version(String subject, int version, int id, String schema) {
      this(subject, version, id, schema, false);
    }
  }

  private final SchemaLog log;
  private final CompatibilityLevel defaultLevel;
  private final Map<String, List<Version>> subjects = new TreeMap<>();
  private final Map<Integer, String> schemasById = new HashMap<>();
  private final Map<String, Integer> idsByCanonical = new HashMap<>();
  private final Map<String, CompatibilityLevel> subjectLevels = new HashMap<>();
  private CompatibilityLevel globalLevel;
  private int maxId;

  public SchemaStore(SchemaLog log, CompatibilityLevel defaultLevel) {
    this.log = log;
    this.defaultLevel = defaultLevel;
    this.globalLevel = defaultLevel;
    for (SchemaLog.Entry entry : log.readAll()) {
      apply(entry.key(), entry.value());
    }
  }

  private void apply(String key, String value) {
    try {
      JsonNode k = JSON.readTree(key);
      JsonNode v = value == null ? null : JSON.readTree(value);
      switch (k.path("keytype").asText()) {
        case "SCHEMA" -> {
          if (v == null) {
            // A permanent delete: the version is gone, and its id with it if nothing holds it.
            String subject = k.path("subject").asText();
            int number = k.path("version").asInt();
            List<Version> versions = subjects.getOrDefault(subject, new ArrayList<>());
            versions.stream()
                .filter(x -> x.version() == number)
                .findFirst()
                .ifPresent(
                    gone -> {
                      versions.remove(gone);
                      if (subjects.values().stream()
                          .flatMap(List::stream)
                          .noneMatch(x -> x.id() == gone.id())) {
                        schemasById.remove(gone.id());
                      }
                    });
            if (versions.isEmpty()) {
              subjects.remove(subject);
            }
            return;
          }
          Version version =
              new Version(
                  v.path("subject").asText(),
                  v.path("version").asInt(),
                  v.path("id").asInt(),
                  canonical(parse(v.path("schema").asText())),
                  v.path("deleted").asBoolean(false));
          List<Version> versions =
              subjects.computeIfAbsent(version.subject(), s -> new ArrayList<>());
          versions.removeIf(x -> x.version() == version.version());
          versions.add(version);
          versions.sort((a, b) -> Integer.compare(a.version(), b.version()));
          schemasById.put(version.id(), version.schema());
          idsByCanonical.putIfAbsent(version.schema(), version.id());
          maxId = Math.max(maxId, version.id());
        }
        case "CONFIG" -> {
          CompatibilityLevel level =
              v == null
                  ? null
                  : CompatibilityLevel.parse(v.path("compatibilityLevel").asText()).orElse(null);
          JsonNode subject = k.path("subject");
          if (subject.isMissingNode() || subject.isNull()) {
            globalLevel = level == null ? defaultLevel : level;
          } else if (level == null) {
            subjectLevels.remove(subject.asText());
          } else {
            subjectLevels.put(subject.asText(), level);
          }
        }
        default -> {
          // NOOP, MODE and other Confluent record types carry nothing this registry keeps.
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("corrupt registry log record " + key + ": " + e, e);
    }
  }

  /** Registers {@code schemaText} under {@code subject}; returns the existing id if present. */
  public synchronized int register(String subject, String schemaText) {
    Schema schema = parse(schemaText);
    String canonical = canonical(schema);
    List<Version> all = subjects.getOrDefault(subject, List.of());
    List<Version> versions = all.stream().filter(v -> !v.deleted()).toList();
    for (Version v : versions) {
      if (v.schema().equals(canonical)) {
        return v.id();
      }
    }
    List<String> problems = level(subject).check(schema, parsed(versions));
    if (!problems.isEmpty()) {
      throw new SchemaRegistryException(
          409,
          INCOMPATIBLE,
          "Schema being registered is incompatible with an earlier schema for subject \""
              + subject
              + "\", details: "
              + problems);
    }
    int id = idsByCanonical.getOrDefault(canonical, maxId + 1);
    // Numbers go on after soft-deleted versions, as Confluent's do.
    int version = all.isEmpty() ? 1 : all.get(all.size() - 1).version() + 1;
    writeVersion(new Version(subject, version, id, canonical, false));
    return id;
  }

  private void writeVersion(Version v) {
    write(schemaKey(v.subject(), v.version()), versionValue(v));
  }

  private static String schemaKey(String subject, int version) {
    ObjectNode key = JSON.createObjectNode();
    key.put("keytype", "SCHEMA").put("subject", subject).put("version", version).put("magic", 1);
    return key.toString();
  }

  private static String versionValue(Version v) {
    ObjectNode value = JSON.createObjectNode();
    value
        .put("subject", v.subject())
        .put("version", v.version())
        .put("id", v.id())
        .put("schema", v.schema())
        .put("deleted", v.deleted());
    return value.toString();
  }

  /**
   * Deletes every version of {@code subject}: soft-deletes the live ones, or with {@code permanent}
   * removes them all, which must be soft-deleted already. Returns the version numbers deleted.
   */
  public synchronized List<Integer> deleteSubject(String subject, boolean permanent) {
    List<Version> all = subjects.getOrDefault(subject, List.of());
    if (all.isEmpty()) {
      throw subjectNotFound(subject);
    }
    List<Version> live = all.stream().filter(v -> !v.deleted()).toList();
    if (permanent) {
      if (!live.isEmpty()) {
        throw new SchemaRegistryException(
            404,
            SUBJECT_NOT_SOFT_DELETED,
            "Subject '" + subject + "' was not deleted first before being permanently deleted");
      }
      List<Version> gone = List.copyOf(all);
      gone.forEach(v -> write(schemaKey(subject, v.version()), null));
      return gone.stream().map(Version::version).toList();
    }
    if (live.isEmpty()) {
      throw new SchemaRegistryException(
          404,
          SUBJECT_SOFT_DELETED,
          "Subject '" + subject + "' was soft deleted.Set permanent=true to delete permanently");
    }
    live.forEach(v -> writeVersion(new Version(subject, v.version(), v.id(), v.schema(), true)));
    return live.stream().map(Version::version).toList();
  }

  /**
   * Deletes one version of {@code subject} ({@code latest} or a number): soft-deletes it, or with
   * {@code permanent} removes it, which must be soft-deleted already. Returns its number.
   */
  public synchronized int deleteVersion(String subject, String version, boolean permanent) {
    // A number is looked up among the soft-deleted versions too (deleting one twice is 40406,
    // not "not found"); "latest" is the latest live one, or with permanent the latest of all.
    boolean latest = version.equals("latest") || version.equals("-1");
    Version v = version(subject, version, permanent || !latest);
    if (permanent) {
      if (!v.deleted()) {
        throw new SchemaRegistryException(
            404,
            VERSION_NOT_SOFT_DELETED,
            "Subject '"
                + subject
                + "' Version "
                + v.version()
                + " was not deleted first before being permanently deleted");
      }
      write(schemaKey(subject, v.version()), null);
      return v.version();
    }
    if (v.deleted()) {
      throw new SchemaRegistryException(
          404,
          VERSION_SOFT_DELETED,
          "Subject '"
              + subject
              + "' Version "
              + v.version()
              + " was soft deleted.Set permanent=true to delete permanently");
    }
    writeVersion(new Version(subject, v.version(), v.id(), v.schema(), true));
    return v.version();
  }

  private static SchemaRegistryException subjectNotFound(String subject) {
    return new SchemaRegistryException(
        404, SUBJECT_NOT_FOUND, "Subject '" + subject + "' not found.");
  }

  /** The version of {@code subject} whose schema equals {@code schemaText}. */
  public synchronized Version lookup(String subject, String schemaText) {
    String canonical = canonical(parse(schemaText));
    for (Version v : versions(subject)) {
      if (v.schema().equals(canonical)) {
        return v;
      }
    }
    throw new SchemaRegistryException(404, SCHEMA_NOT_FOUND, "Schema not found");
  }

  public synchronized List<String> subjects() {
    return subjects(false);
  }

  /** Subjects with a live version, or with any version when {@code deleted}. */
  public synchronized List<String> subjects(boolean deleted) {
    return subjects.entrySet().stream()
        .filter(e -> e.getValue().stream().anyMatch(v -> deleted || !v.deleted()))
        .map(Map.Entry::getKey)
        .toList();
  }

  /** Every live version of {@code subject}, oldest first. */
  public synchronized List<Version> versions(String subject) {
    return versions(subject, false);
  }

  /** Every version of {@code subject}, oldest first, the soft-deleted ones too when asked. */
  public synchronized List<Version> versions(String subject, boolean deleted) {
    List<Version> versions =
        subjects.getOrDefault(subject, List.of()).stream()
            .filter(v -> deleted || !v.deleted())
            .toList();
    if (versions.isEmpty()) {
      throw subjectNotFound(subject);
    }
    return versions;
  }

  /** {@code version} is a positive number, {@code latest} or {@code -1}. */
  public synchronized Version version(String subject, String version) {
    return version(subject, version, false);
  }

  /** The same, among the soft-deleted versions too when {@code deleted}. */
  public synchronized Version version(String subject, String version, boolean deleted) {
    List<Version> versions = versions(subject, deleted);
    if (version.equals("latest") || version.equals("-1")) {
      return versions.get(versions.size() - 1);
    }
    int number;
    try {
      number = Integer.parseInt(version);
    } catch (NumberFormatException e) {
      number = 0;
    }
    if (number <= 0) {
      throw new SchemaRegistryException(
          422,
          INVALID_VERSION,
          "The specified version '"
              + version
              + "' is not a valid version id. Allowed values are between [1, 2^31-1] and the"
              + " string \"latest\"");
    }
    for (Version v : versions) {
      if (v.version() == number) {
        return v;
      }
    }
    throw new SchemaRegistryException(404, VERSION_NOT_FOUND, "Version " + version + " not found.");
  }

  public synchronized String schemaById(int id) {
    String schema = schemasById.get(id);
    if (schema == null) {
      throw new SchemaRegistryException(404, SCHEMA_NOT_FOUND, "Schema " + id + " not found");
    }
    return schema;
  }

  /** Every (subject, version) that holds schema {@code id}. */
  public synchronized List<Version> versionsOf(int id) {
    schemaById(id);
    List<Version> out = new ArrayList<>();
    subjects
        .values()
        .forEach(vs -> vs.stream().filter(v -> v.id() == id && !v.deleted()).forEach(out::add));
    return out;
  }

  /**
   * Incompatibilities of {@code schemaText} with {@code version} of {@code subject} (or with every
   * version when {@code version} is null), at the subject's level; empty when compatible.
   */
  public synchronized List<String> checkCompatibility(
      String subject, String version, String schemaText) {
    Schema schema = parse(schemaText);
    List<Version> against =
        version == null ? versions(subject) : List.of(version(subject, version));
    CompatibilityLevel level = level(subject);
    List<String> problems = new ArrayList<>();
    for (Schema previous : parsed(against)) {
      problems.addAll(level.check(schema, List.of(previous)));
    }
    return problems;
  }

  public synchronized CompatibilityLevel globalLevel() {
    return globalLevel;
  }

  public synchronized Optional<CompatibilityLevel> subjectLevel(String subject) {
    return Optional.ofNullable(subjectLevels.get(subject));
  }

  /** The level in force for {@code subject}: its own, else the global one. */
  public synchronized CompatibilityLevel level(String subject) {
    return subjectLevels.getOrDefault(subject, globalLevel);
  }

  /** Sets the level of {@code subject}, or the global level when {@code subject} is null. */
  public synchronized CompatibilityLevel setLevel(String subject, String levelText) {
    CompatibilityLevel level =
        CompatibilityLevel.parse(levelText)
            .orElseThrow(
                () ->
                    new SchemaRegistryException(
                        422,
                        INVALID_COMPATIBILITY_LEVEL,
                        "Invalid compatibility level. Valid values are none, backward, forward,"
                            + " full, backward_transitive, forward_transitive, and"
                            + " full_transitive"));
    ObjectNode key = JSON.createObjectNode();
    key.put("keytype", "CONFIG");
    if (subject == null) {
      key.putNull("subject");
    } else {
      key.put("subject", subject);
    }
    key.put("magic", 0);
    ObjectNode value = JSON.createObjectNode();
    value.put("compatibilityLevel", level.name());
    write(key.toString(), value.toString());
    return level;
  }

  private void write(String key, String value) {
    try {
      log.append(key, value);
    } catch (RuntimeException e) {
      throw new SchemaRegistryException(
          500, SchemaRegistryException.STORE_ERROR, "Error while storing: " + e.getMessage());
    }
    apply(key, value);
  }

  private static List<Schema> parsed(List<Version> versions) {
    return versions.stream().map(v -> parse(v.schema())).toList();
  }

  static Schema parse(String text) {
    try {
      return new Schema.Parser().parse(text);
    } catch (SchemaParseException | NullPointerException e) {
      throw new SchemaRegistryException(422, INVALID_SCHEMA, "Invalid schema: " + e.getMessage());
    }
  }

  /** Two schemas are the same when their full JSON forms (with defaults and docs) are equal. */
  static String canonical(Schema schema) {
    return schema.toString();
  }
}
