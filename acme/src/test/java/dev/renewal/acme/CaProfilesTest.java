package dev.renewal.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.renewal.config.ConfigException;
import dev.renewal.config.Settings;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CaProfilesTest {
  @Test
  void readsEveryProfileWithDefaults() {
    CaProfiles profiles =
        CaProfiles.from(
            Settings.of(
                Map.of(
                    "ca.profiles", "pebble, le",
                    "ca.pebble.directory.url", "https://127.0.0.1:14000/dir",
                    "ca.pebble.max.in.flight", "8",
                    "ca.le.directory.url", "https://acme-v02.api.letsencrypt.org/directory",
                    "ca.le.contact", "mailto:ops@example.com",
                    "ca.le.terms.agreed", "true")));
    assertThat(profiles.names()).containsExactlyInAnyOrder("pebble", "le");
    CaProfile pebble = profiles.get("pebble").orElseThrow();
    assertThat(pebble.maxInFlight()).isEqualTo(8);
    assertThat(pebble.retry().budget()).isEqualTo(Duration.ofMinutes(30));
    assertThat(pebble.usesEab()).isFalse();
    CaProfile le = profiles.get("le").orElseThrow();
    assertThat(le.contacts()).containsExactly("mailto:ops@example.com");
    assertThat(le.termsAgreed()).isTrue();
    assertThat(profiles.get("zerossl")).isEmpty();
  }

  @Test
  void everyProblemOfEveryProfileIsReportedAtOnce() {
    assertThatThrownBy(
            () ->
                CaProfiles.from(
                    Settings.of(
                        Map.of(
                            "ca.profiles", "a,b",
                            "ca.a.directory.url", "ftp://x/dir",
                            "ca.a.eab.kid", "kid-only",
                            "ca.b.directory.url", "https://b.example/dir",
                            "ca.b.trust.pem", "/nonexistent/ca.pem",
                            "ca.b.contact", "ops@example.com",
                            "ca.b.max.in.flight", "0"))))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(String.join("\n", e.problems()))
                    .contains("ca.a.directory.url = 'ftp://x/dir'")
                    .contains("ca.a.eab.kid")
                    .contains("ca.b.trust.pem = '/nonexistent/ca.pem'")
                    .contains("ca.b.contact = 'ops@example.com'")
                    .contains("ca.b.max.in.flight = '0'"));
  }

  @Test
  void noProfileAtAllIsAnError() {
    assertThatThrownBy(() -> CaProfiles.from(Settings.of(Map.of())))
        .hasMessageContaining("ca.profiles");
  }
}
