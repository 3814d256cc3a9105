package dev.renewal.serde;

import org.apache.avro.util.ClassSecurityValidator;

/**
 * Avro 1.12 refuses to instantiate classes outside trusted packages, even to copy an enum default
 * in a generated builder. The generated events live in {@code dev.renewal.events}. Programs set
 * {@code -Dorg.apache.avro.SERIALIZABLE_PACKAGES=dev.renewal.events} at JVM start (the launcher and
 * the test JVMs do); {@link #trustEventPackages()} adds the same trust to Avro's global validator
 * for code that embeds the pipeline without that flag, and is called by the serdes and every
 * service's start.
 */
public final class AvroTrust {
  private static final String EVENTS_PACKAGE = "dev.renewal.events.";
  private static boolean installed;

  private AvroTrust() {}

  public static synchronized void trustEventPackages() {
    if (installed) {
      return;
    }
    ClassSecurityValidator.setGlobal(
        ClassSecurityValidator.composite(
            ClassSecurityValidator.getGlobal(), c -> c.getName().startsWith(EVENTS_PACKAGE)));
    installed = true;
  }
}
