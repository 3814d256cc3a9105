package dev.renewal.registry;

import java.util.HashMap;
import java.util.Map;
import org.apache.avro.Schema;

/**
 * A registry held in memory, for {@code TopologyTestDriver} tests and tools that need no shared
 * registry. Ids are global and an identical schema keeps its id across subjects, as in Confluent's
 * registry. It checks no compatibility.
 */
public final class InMemorySchemaRegistryClient implements SchemaRegistryClient {
  private final Map<String, Integer> idsBySchema = new HashMap<>();
  private final Map<String, Map<String, Integer>> subjects = new HashMap<>();
  private final Map<Integer, Schema> schemas = new HashMap<>();

  @Override
  public synchronized int register(String subject, Schema schema) {
    String text = schema.toString();
    int id = idsBySchema.computeIfAbsent(text, t -> idsBySchema.size() + 1);
    schemas.putIfAbsent(id, schema);
    subjects.computeIfAbsent(subject, s -> new HashMap<>()).put(text, id);
    return id;
  }

  @Override
  public synchronized int lookup(String subject, Schema schema) {
    Map<String, Integer> versions = subjects.get(subject);
    if (versions == null) {
      throw new SchemaRegistryException(
          404, SchemaRegistryException.SUBJECT_NOT_FOUND, "Subject '" + subject + "' not found.");
    }
    Integer id = versions.get(schema.toString());
    if (id == null) {
      throw new SchemaRegistryException(
          404, SchemaRegistryException.SCHEMA_NOT_FOUND, "Schema not found");
    }
    return id;
  }

  @Override
  public synchronized Schema schemaById(int id) {
    Schema schema = schemas.get(id);
    if (schema == null) {
      throw new SchemaRegistryException(
          404, SchemaRegistryException.SCHEMA_NOT_FOUND, "Schema " + id + " not found");
    }
    return schema;
  }
}
