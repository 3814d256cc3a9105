package dev.renewal.acme;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One CA operation through the profile's {@link Pacer}, retried as the profile's {@link
 * RetryPolicy} allows: transient and rate-limited failures are rescheduled (never slept on),
 * terminal ones and an exhausted budget give up with {@link GaveUp}, carrying the classified
 * failure and the original cause. The one retry loop every service uses.
 */
public final class RetryingCall {
  private static final Logger LOGGER = LoggerFactory.getLogger(RetryingCall.class);

  /** Told before each retry, for metrics and logs. */
  @FunctionalInterface
  public interface Listener {
    void retrying(int attempt, AcmeFailure failure, Duration delay);
  }

  /** The call gave up: the failure was terminal, or the retry budget is spent. */
  public static final class GaveUp extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient AcmeFailure failure;

    GaveUp(AcmeFailure failure, Throwable cause) {
      super(failure.problem().getType(), cause);
      this.failure = failure;
    }

    public AcmeFailure failure() {
      return failure;
    }

    /** The GaveUp inside {@code error}, as futures deliver it (possibly wrapped). */
    public static GaveUp of(Throwable error) {
      Throwable e =
          error instanceof CompletionException && error.getCause() != null
              ? error.getCause()
              : error;
      if (e instanceof GaveUp g) {
        return g;
      }
      return new GaveUp(AcmeFailure.classify(e), e);
    }
  }

  private RetryingCall() {}

  /** Runs {@code operation}; completes with its value, or exceptionally with {@link GaveUp}. */
  public static <T> CompletableFuture<T> run(
      Pacer pacer, CaProfile profile, Clock clock, Supplier<T> operation, Listener listener) {
    return attempt(pacer, profile, clock, operation, listener, 1, clock.instant(), Duration.ZERO);
  }

  private static <T> CompletableFuture<T> attempt(
      Pacer pacer,
      CaProfile profile,
      Clock clock,
      Supplier<T> operation,
      Listener listener,
      int attempt,
      Instant started,
      Duration delay) {
    return pacer
        .submitAfter(delay, operation)
        .handle(
            (value, error) -> {
              if (error == null) {
                return CompletableFuture.completedFuture(value);
              }
              Throwable cause =
                  error instanceof CompletionException && error.getCause() != null
                      ? error.getCause()
                      : error;
              AcmeFailure failure = AcmeFailure.classify(cause);
              Optional<Duration> next =
                  failure.kind().retryable()
                      ? profile
                          .retry()
                          .nextDelay(attempt, failure.retryAfter(), started, clock.instant())
                      : Optional.empty();
              if (next.isEmpty()) {
                if (failure.kind().retryable()) {
                  LOGGER.warn(
                      "ca retries exhausted: profile={} attempts={} problem={}",
                      profile.name(),
                      attempt,
                      failure.problem().getType());
                }
                return CompletableFuture.<T>failedFuture(new GaveUp(failure, cause));
              }
              listener.retrying(attempt, failure, next.get());
              LOGGER.info(
                  "ca call failed, retrying: profile={} attempt={} kind={} delayMs={} problem={}",
                  profile.name(),
                  attempt,
                  failure.kind(),
                  next.get().toMillis(),
                  failure.problem().getDetail());
              return attempt(
                  pacer, profile, clock, operation, listener, attempt + 1, started, next.get());
            })
        .thenCompose(f -> f);
  }
}
