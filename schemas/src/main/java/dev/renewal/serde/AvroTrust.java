package dev.renewal.serde;

import org.apache.avro.util.ClassSecurityValidator;

/**
 * Avro 1.12 refuses to instantiate classes outside trusted packages. The generated events live in
 * {@code dev.renewal.events}; trust that package, once, in addition to Avro's own defaults.
 */
final class AvroTrust {
  private static final String EVENTS_PACKAGE = "dev.renewal.events.";
  private static boolean installed;

  private AvroTrust() {}

  static synchronized void trustEventPackages() {
    if (installed) {
      return;
    }
    ClassSecurityValidator.setGlobal(
        ClassSecurityValidator.composite(
            ClassSecurityValidator.getGlobal(), c -> c.getName().startsWith(EVENTS_PACKAGE)));
    installed = true;
  }
}
