package dev.renewal.registry;

import org.apache.avro.Schema;

/**
 * The part of the Confluent Schema Registry API that serdes need. Implementations cache: a schema
 * registered or fetched once is never asked for again.
 */
public interface SchemaRegistryClient {

  /**
   * Registers {@code schema} under {@code subject} (idempotent: an identical schema returns its
   * existing id) and returns its global id.
   *
   * @throws SchemaRegistryException with HTTP 409 if the registry finds it incompatible
   */
  int register(String subject, Schema schema);

  /**
   * Returns the id of {@code schema} if it is already registered under {@code subject}, without
   * registering it.
   *
   * @throws SchemaRegistryException with error code 40401 or 40403 if it is not
   */
  int lookup(String subject, Schema schema);

  /**
   * Returns the schema with this global id.
   *
   * @throws SchemaRegistryException with error code 40403 if there is none
   */
  Schema schemaById(int id);
}
