package dev.renewal.acme;

import dev.renewal.events.Problem;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The failed attempts of a POST that changes state at the CA (a trigger, a finalize), per object,
 * until the object is read again and decides. Such a POST is never sent again blindly: after a
 * failure the caller reads the object first; {@link #failed} says how long to wait before that read
 * (the profile's retry policy, honouring Retry-After), and {@link #refused} what the CA said if it
 * refused the POST outright, so that the read can let the refusal stand when the object did not
 * move. Kept in memory: after a restart the object is read again anyway.
 */
public final class PostAttempts {
  private record Tries(int attempts, Instant started, Optional<Problem> refused) {}

  private final Map<String, Tries> byObject = new ConcurrentHashMap<>();

  /**
   * Records a failed POST on {@code object}: the delay before reading the object again (zero after
   * a refusal), or empty when the retry budget of {@code profile} is spent.
   */
  public Optional<Duration> failed(
      String object, AcmeFailure failure, CaProfile profile, Instant now) {
    Tries before = byObject.get(object);
    Tries tries =
        new Tries(
            before == null ? 1 : before.attempts() + 1,
            before == null ? now : before.started(),
            failure.kind().retryable() ? Optional.empty() : Optional.of(failure.problem()));
    byObject.put(object, tries);
    if (!failure.kind().retryable()) {
      return Optional.of(Duration.ZERO);
    }
    return profile.retry().nextDelay(tries.attempts(), failure.retryAfter(), tries.started(), now);
  }

  /** The CA's refusal of the last POST on {@code object}, if it refused it. */
  public Optional<Problem> refused(String object) {
    return Optional.ofNullable(byObject.get(object)).flatMap(Tries::refused);
  }

  /** The POST succeeded, or the object's work ended: nothing to remember. */
  public void forget(String object) {
    byObject.remove(object);
  }
}
