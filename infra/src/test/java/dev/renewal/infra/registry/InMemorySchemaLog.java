package dev.renewal.infra.registry;

import java.util.ArrayList;
import java.util.List;

/** A {@link SchemaLog} in a list: survives "restarts" of a store built on it within a test. */
final class InMemorySchemaLog implements SchemaLog {
  final List<Entry> entries = new ArrayList<>();
  boolean failWrites;

  @Override
  public synchronized List<Entry> readAll() {
    return List.copyOf(entries);
  }

  @Override
  public synchronized void append(String key, String value) {
    if (failWrites) {
      throw new IllegalStateException("broker unreachable");
    }
    entries.add(new Entry(key, value));
  }

  @Override
  public void close() {}
}
