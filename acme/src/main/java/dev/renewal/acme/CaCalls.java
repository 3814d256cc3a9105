package dev.renewal.acme;

import dev.renewal.contract.RenewalFailures;
import dev.renewal.events.Problem;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.Stage;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.Topics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How every handler talks to a CA, in one place: each call runs through the profile's {@link Pacer}
 * (its concurrency and rate limits), is retried as the profile's {@link RetryPolicy} allows
 * (transient and rate-limited failures are rescheduled, honouring Retry-After, never slept on), and
 * each retry is counted ({@code ca.retries} by kind). A call that gives up completes exceptionally
 * with a {@link CaCallFailure} carrying the classified failure; {@link #fail} turns such an outcome
 * into the {@code RenewalFailed} event of the handler's stage.
 */
public final class CaCalls {
  private static final Logger LOGGER = LoggerFactory.getLogger(CaCalls.class);

  private final Map<String, Pacer> pacers;
  private final Publisher publisher;
  private final Topics topics;
  private final Clock clock;
  private final ServiceMetrics metrics;

  public CaCalls(
      Map<String, Pacer> pacers,
      Publisher publisher,
      Topics topics,
      Clock clock,
      ServiceMetrics metrics) {
    this.pacers = Map.copyOf(pacers);
    this.publisher = publisher;
    this.topics = topics;
    this.clock = clock;
    this.metrics = metrics;
  }

  /** Runs {@code operation} now; completes with its value, or exceptionally with a failure. */
  public <T> CompletableFuture<T> call(CaProfile profile, Supplier<T> operation) {
    return callAfter(profile, Duration.ZERO, operation);
  }

  /** The same, after {@code delay} (waiting is rescheduling, no thread is held). */
  public <T> CompletableFuture<T> callAfter(
      CaProfile profile, Duration delay, Supplier<T> operation) {
    return attempt(pacer(profile), profile, operation, 1, clock.instant(), delay);
  }

  /**
   * Runs {@code operation} once, without retries: for a POST that changes state at the CA (a
   * trigger, a finalize), whose lost or ambiguous answer is followed by reading the object again,
   * never by sending it again blindly. Fails with the classified failure.
   */
  public <T> CompletableFuture<T> once(CaProfile profile, Supplier<T> operation) {
    return pacer(profile)
        .submit(operation)
        .handle(
            (value, error) -> {
              if (error == null) {
                return CompletableFuture.completedFuture(value);
              }
              Throwable cause = unwrap(error);
              return CompletableFuture.<T>failedFuture(
                  CaCallFailure.gaveUp(AcmeFailure.classify(cause), cause));
            })
        .thenCompose(f -> f);
  }

  /** Counts a retry that the caller schedules itself (after {@link #once}). */
  public void retrying(AcmeFailure failure) {
    metrics.count("ca.retries", "kind", failure.kind().name());
  }

  private Pacer pacer(CaProfile profile) {
    Pacer pacer = pacers.get(profile.name());
    if (pacer == null) {
      throw new IllegalStateException("no pacer for CA profile " + profile.name());
    }
    return pacer;
  }

  private <T> CompletableFuture<T> attempt(
      Pacer pacer,
      CaProfile profile,
      Supplier<T> operation,
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
              Throwable cause = unwrap(error);
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
                return CompletableFuture.<T>failedFuture(CaCallFailure.gaveUp(failure, cause));
              }
              metrics.count("ca.retries", "kind", failure.kind().name());
              LOGGER.info(
                  "ca call failed, retrying: profile={} attempt={} kind={} delayMs={} problem={}",
                  profile.name(),
                  attempt,
                  failure.kind(),
                  next.get().toMillis(),
                  failure.problem().getDetail());
              return attempt(pacer, profile, operation, attempt + 1, started, next.get());
            })
        .thenCompose(f -> f);
  }

  /**
   * Publishes the {@code RenewalFailed} of a request at {@code stage} (counted as {@code
   * renewals.failed} by stage and problem type, and logged in one line); completes once it is on
   * the topic.
   *
   * @param orderUrl the order, if one was placed
   * @param authorizationUrl the authorization, for the challenge stage
   */
  public CompletableFuture<Void> fail(
      RenewalRequested request,
      Stage stage,
      Problem problem,
      boolean retryable,
      String orderUrl,
      String authorizationUrl) {
    return fail(request, stage, problem, retryable, null, orderUrl, authorizationUrl);
  }

  private CompletableFuture<Void> fail(
      RenewalRequested request,
      Stage stage,
      Problem problem,
      boolean retryable,
      Instant retryAfter,
      String orderUrl,
      String authorizationUrl) {
    metrics.failed(stage, problem.getType());
    LOGGER.info(
        "renewal failed: requestId={} stage={} authorization={} problem={} retryable={}",
        request.getRequestId(),
        stage,
        authorizationUrl,
        problem.getType(),
        retryable);
    return publisher
        .send(
            topics.renewalFailed,
            request.getRequestId(),
            RenewalFailed.newBuilder(
                    RenewalFailures.event(
                        clock.instant(),
                        request,
                        stage,
                        problem,
                        retryable,
                        orderUrl,
                        authorizationUrl))
                .setRetryAfter(retryAfter)
                .build())
        .thenRun(() -> {});
  }

  /**
   * The same for a call that gave up: its problem, retryable as its kind says, and the CA's
   * Retry-After (which the scheduler's retry honours).
   */
  public CompletableFuture<Void> fail(
      RenewalRequested request,
      Stage stage,
      AcmeFailure failure,
      String orderUrl,
      String authorizationUrl) {
    return fail(
        request,
        stage,
        failure.problem(),
        failure.kind().retryable(),
        failure.retryAfter().orElse(null),
        orderUrl,
        authorizationUrl);
  }

  static Throwable unwrap(Throwable error) {
    Throwable e = error;
    while ((e instanceof CompletionException || e instanceof ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
