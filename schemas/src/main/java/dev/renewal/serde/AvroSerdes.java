package dev.renewal.serde;

import dev.renewal.registry.SchemaRegistryClient;
import org.apache.avro.generic.GenericContainer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** Makes Confluent-wire-format Avro serdes that share one registry client (and its caches). */
public final class AvroSerdes {
  private final SchemaRegistryClient registry;
  private final boolean autoRegister;

  /**
   * @param autoRegister register schemas on first use (the default for our services); when false, a
   *     schema must already be registered and serializing anything else fails
   */
  public AvroSerdes(SchemaRegistryClient registry, boolean autoRegister) {
    AvroTrust.trustEventPackages();
    this.registry = registry;
    this.autoRegister = autoRegister;
  }

  public SchemaRegistryClient registry() {
    return registry;
  }

  /** A serde for values of {@code type} (a generated event class or {@code GenericRecord}). */
  public <T extends GenericContainer> Serde<T> value(Class<T> type) {
    return Serdes.serdeFrom(
        new AvroSerializer<>(registry, false, autoRegister),
        new AvroDeserializer<>(registry, type));
  }

  /** A serde for keys of {@code type}. */
  public <T extends GenericContainer> Serde<T> key(Class<T> type) {
    return Serdes.serdeFrom(
        new AvroSerializer<>(registry, true, autoRegister), new AvroDeserializer<>(registry, type));
  }
}
