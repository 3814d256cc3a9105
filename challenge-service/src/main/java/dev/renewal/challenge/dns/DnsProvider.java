package dev.renewal.challenge.dns;

/**
 * Where DNS-01 TXT records are written. Implementations block (network calls): call them from a
 * worker, never from a consumer thread. Both operations are idempotent.
 */
public interface DnsProvider {

  /**
   * Adds the TXT record {@code name} (e.g. {@code _acme-challenge.example.com.}) with {@code
   * value}; other values of the same name stay (a wildcard and its base name share the name).
   */
  void present(String name, String value);

  /** Removes that one value of the TXT record {@code name}. */
  void cleanup(String name, String value);

  /** A provider for configurations without DNS-01. */
  DnsProvider NONE =
      new DnsProvider() {
        @Override
        public void present(String name, String value) {
          throw new IllegalStateException(
              "DNS-01 requested but no DNS provider is configured (challenge.dns.provider)");
        }

        @Override
        public void cleanup(String name, String value) {}
      };
}
