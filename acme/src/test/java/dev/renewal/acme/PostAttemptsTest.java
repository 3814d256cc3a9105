package dev.renewal.acme;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.events.Problem;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PostAttemptsTest {
  static final CaProfile PROFILE =
      new CaProfile(
          "ca",
          URI.create("https://ca.example/dir"),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          List.of(),
          true,
          2,
          10,
          Duration.ofSeconds(5),
          new RetryPolicy(
              3,
              Duration.ofMillis(100),
              Duration.ofMillis(10),
              Duration.ofSeconds(10),
              Duration.ofMinutes(1)),
          Duration.ofMinutes(1),
          Duration.ofMinutes(1));
  static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");

  static AcmeFailure transientFailure(Optional<Instant> retryAfter) {
    return new AcmeFailure(
        AcmeFailure.Kind.TRANSIENT,
        retryAfter,
        Problem.newBuilder().setType(AcmeFailure.PROTOCOL).build());
  }

  @Test
  void aRefusalIsReadAgainAtOnceAndRememberedUntilForgotten() {
    PostAttempts attempts = new PostAttempts();
    Problem no = Problem.newBuilder().setType("urn:ietf:params:acme:error:malformed").build();
    assertThat(
            attempts.failed(
                "o",
                new AcmeFailure(AcmeFailure.Kind.TERMINAL, Optional.empty(), no),
                PROFILE,
                NOW))
        .contains(Duration.ZERO);
    assertThat(attempts.refused("o")).contains(no);
    attempts.forget("o");
    assertThat(attempts.refused("o")).isEmpty();
  }

  @Test
  void transientFailuresWaitAsTheRetryPolicySaysUntilItsAttemptsAreSpent() {
    PostAttempts attempts = new PostAttempts();
    assertThat(
            attempts.failed("o", transientFailure(Optional.of(NOW.plusSeconds(2))), PROFILE, NOW))
        .contains(Duration.ofSeconds(2));
    assertThat(attempts.failed("o", transientFailure(Optional.empty()), PROFILE, NOW)).isPresent();
    assertThat(attempts.refused("o")).isEmpty();
    assertThat(attempts.failed("o", transientFailure(Optional.empty()), PROFILE, NOW)).isEmpty();
  }
}
