package dev.renewal.infra.registry;

import java.util.List;

/**
 * Where the registry keeps its facts: an append-only log of key/value JSON records, replayed on
 * start. The Kafka implementation is the compacted {@code _schemas} topic.
 */
public interface SchemaLog extends AutoCloseable {

  /** One record of the log. */
  record Entry(String key, String value) {}

  /** Every record, oldest first. */
  List<Entry> readAll();

  /** Appends a record durably before returning. */
  void append(String key, String value);

  @Override
  void close();
}
