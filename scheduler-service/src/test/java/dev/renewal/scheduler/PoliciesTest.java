package dev.renewal.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.renewal.config.ConfigException;
import dev.renewal.config.Settings;
import dev.renewal.scheduler.domain.RenewalPolicy;
import dev.renewal.scheduler.domain.RenewalTime.Before;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PoliciesTest {
  @Test
  void aProfileWithNothingConfiguredHasTheDefaults() {
    RenewalPolicy p = Policies.read(Settings.of(Map.of()), List.of("main")).get("main");
    assertThat(p).isEqualTo(RenewalPolicy.DEFAULT);
  }

  @Test
  void everyKeyOfAProfileIsRead() {
    Settings s =
        Settings.of(
            Map.of(
                "ca.main.renewal.before", "10d",
                "ca.main.renewal.retry.initial", "5m",
                "ca.main.renewal.retry.max", "6h",
                "ca.main.renewal.urgent", "2d",
                "ca.main.fallback", "backup, third",
                "ca.main.fallback.after", "2"));
    RenewalPolicy p = Policies.read(s, List.of("main", "backup", "third")).get("main");
    assertThat(p.before()).contains(Before.parse("10d"));
    assertThat(p.retryInitial()).isEqualTo(Duration.ofMinutes(5));
    assertThat(p.retryMax()).isEqualTo(Duration.ofHours(6));
    assertThat(p.urgent()).isEqualTo(Optional.of(Duration.ofDays(2)));
    assertThat(p.fallbacks()).containsExactly("backup", "third");
    assertThat(p.fallbackAfter()).isEqualTo(2);
  }

  @Test
  void everyProblemIsReportedWithItsKey() {
    Settings s =
        Settings.of(
            Map.of(
                "ca.main.renewal.before", "soon",
                "ca.main.renewal.retry.initial", "2h",
                "ca.main.renewal.retry.max", "1h",
                "ca.main.fallback", "main,nowhere",
                "ca.main.fallback.after", "0"));
    assertThatThrownBy(() -> Policies.read(s, List.of("main", "backup")))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e -> {
              List<String> problems = ((ConfigException) e).problems();
              assertThat(problems).anyMatch(m -> m.startsWith("ca.main.renewal.before = 'soon'"));
              assertThat(problems)
                  .anyMatch(
                      m -> m.startsWith("ca.main.renewal.retry.max") && m.contains("shorter"));
              assertThat(problems).anyMatch(m -> m.contains("names the profile itself"));
              assertThat(problems)
                  .anyMatch(m -> m.contains("'nowhere', which is not one of ca.profiles"));
              assertThat(problems).anyMatch(m -> m.startsWith("ca.main.fallback.after = '0'"));
            });
  }
}
