package dev.renewal.challenge.handler;

import dev.renewal.acme.AcmeFailure;
import dev.renewal.acme.CaCallFailure;
import dev.renewal.acme.CaCalls;
import dev.renewal.acme.CaProfile;
import dev.renewal.acme.CaProfiles;
import dev.renewal.acme.PollPolicy;
import dev.renewal.acme.PostAttempts;
import dev.renewal.challenge.acme.AuthorizationGateway;
import dev.renewal.challenge.domain.AuthorizationStep;
import dev.renewal.challenge.domain.AuthorizationStep.Action;
import dev.renewal.challenge.domain.AuthorizationView;
import dev.renewal.challenge.domain.ChallengeView;
import dev.renewal.challenge.provision.Provisioner;
import dev.renewal.contract.RenewalFailures;
import dev.renewal.events.AcmeStatus;
import dev.renewal.events.AuthorizationWork;
import dev.renewal.events.AuthorizationWorkState;
import dev.renewal.events.ChallengeRecord;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.ObservationSource;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.Problem;
import dev.renewal.events.Stage;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.topics.CompactedStore;
import dev.renewal.topics.Ownership;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.Topic;
import dev.renewal.topics.Topics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries every authorization of an order to a terminal observation: the loop that applies {@link
 * AuthorizationStep}'s one action at a time (read the authorization, provision and trigger, poll,
 * finish, time out), records each fact in the order's {@link ChallengeRecord} and asks the step
 * again. Every CA call goes through {@link CaCalls} (pacer, retries); every wait is a rescheduled
 * call, no thread waits.
 *
 * <p>After a restart, authorizations without a terminal observation resume from the record; a
 * challenge whose trigger may have been sent is re-read and triggered only if still pending.
 */
public final class ChallengeHandler {
  private static final Logger LOGGER = LoggerFactory.getLogger(ChallengeHandler.class);

  /** A record change that changes nothing: {@link #updateWork} writes nothing for it. */
  private static final UnaryOperator<AuthorizationWork> NO_CHANGE = w -> w;

  private final CaProfiles profiles;
  private final CaCalls ca;
  private final AuthorizationGateway gateway;
  private final CompactedStore<ChallengeRecord> records;
  private final Provisioner responses;
  private final Publisher publisher;
  private final Topics topics;
  private final Clock clock;
  private final PollPolicy poll;
  private final ServiceMetrics metrics;

  /** When each active order was placed (from its OrderPlaced; unknown after a restart). */
  private final Map<String, Instant> placedAt = new ConcurrentHashMap<>();

  /**
   * Which flow owns each request's work here (a generation per start or resume); a late step of a
   * revoked flow must not undo what the partition's next owner is doing. Its size: the orders with
   * authorizations open.
   */
  private final Ownership owners;

  /** Triggers that failed, by authorization URL, until the authorization is read again. */
  private final PostAttempts triggerTries = new PostAttempts();

  public ChallengeHandler(
      CaProfiles profiles,
      CaCalls ca,
      AuthorizationGateway gateway,
      CompactedStore<ChallengeRecord> records,
      Provisioner responses,
      Publisher publisher,
      Topics topics,
      Clock clock,
      PollPolicy poll,
      ServiceMetrics metrics) {
    this.profiles = profiles;
    this.ca = ca;
    this.gateway = gateway;
    this.records = records;
    this.responses = responses;
    this.publisher = publisher;
    this.topics = topics;
    this.clock = clock;
    this.poll = poll;
    this.metrics = metrics;
    this.owners = new Ownership(records::partitionOf);
    metrics.inFlight("orders", owners::size);
  }

  /**
   * Records the order's authorizations and starts working on them; completes once the record is
   * written (the work goes on, resumable from the record). A duplicate announcement of the same
   * order changes nothing.
   */
  public CompletableFuture<Void> handle(String key, OrderPlaced placed) {
    metrics.count("orders.received");
    String requestId = placed.getRequestId();
    Optional<ChallengeRecord> existing = records.get(requestId);
    if (existing.isPresent() && existing.get().getOrderUrl().equals(placed.getOrderUrl())) {
      metrics.count("orders.duplicate");
      LOGGER.info(
          "order already known, nothing to start: requestId={} order={}",
          requestId,
          placed.getOrderUrl());
      return CompletableFuture.completedFuture(null);
    }
    placedAt.put(requestId, placed.getOccurredAt());
    Optional<CaProfile> profile = profiles.get(placed.getRequest().getCaProfile());
    if (profile.isEmpty()) {
      return ca.fail(
          placed.getRequest(),
          Stage.CHALLENGE,
          RenewalFailures.problem(
              "urn:renewal:problem:unknown-ca-profile",
              "CA profile '"
                  + placed.getRequest().getCaProfile()
                  + "' is not configured in challenge-service"),
          false,
          placed.getOrderUrl(),
          null);
    }
    List<AuthorizationWork> works = new ArrayList<>();
    for (String url : placed.getAuthorizationUrls()) {
      works.add(
          AuthorizationWork.newBuilder()
              .setAuthorizationUrl(url)
              .setState(AuthorizationWorkState.NEW)
              .build());
    }
    ChallengeRecord record =
        ChallengeRecord.newBuilder()
            .setRequestId(requestId)
            .setOrderUrl(placed.getOrderUrl())
            .setAccountUrl(placed.getAccountUrl())
            .setRequest(placed.getRequest())
            .setDeadline(clock.instant().plus(profile.get().authorizationDeadline()))
            .setAuthorizations(works)
            .setUpdatedAt(clock.instant())
            .build();
    long gen = owners.own(requestId);
    return records
        .update(requestId, r -> record)
        .thenRun(
            () -> {
              LOGGER.info(
                  "order recorded, solving: requestId={} authorizations={} type={}",
                  requestId,
                  works.size(),
                  placed.getRequest().getChallengeType());
              works.forEach(w -> start(requestId, w.getAuthorizationUrl(), gen));
            });
  }

  /** Resumes every authorization of {@code loaded} records that has no terminal observation. */
  public void resume(Map<String, ChallengeRecord> loaded) {
    loaded.forEach(
        (requestId, record) -> {
          if (record.getAuthorizations().stream()
              .allMatch(w -> w.getState() == AuthorizationWorkState.DONE)) {
            return;
          }
          long gen = owners.own(requestId);
          for (AuthorizationWork w : record.getAuthorizations()) {
            if (w.getState() != AuthorizationWorkState.DONE) {
              metrics.count("authorizations.resumed");
              LOGGER.info(
                  "resuming authorization: requestId={} authorization={} state={}",
                  requestId,
                  w.getAuthorizationUrl(),
                  w.getState());
              start(requestId, w.getAuthorizationUrl(), gen);
            }
          }
        });
  }

  /** Stops the work of requests in partitions this instance no longer owns. */
  public void cancel(Collection<Integer> partitions) {
    owners.revoke(partitions).forEach(placedAt::remove);
  }

  /** Whether {@code c}'s flow still owns its request's work here. */
  private boolean owns(Context c) {
    return owners.owns(c.requestId(), c.gen());
  }

  /** The record, this authorization's work, its profile, and the flow's generation. */
  private record Context(
      ChallengeRecord record, AuthorizationWork work, CaProfile profile, long gen) {
    String requestId() {
      return record.getRequestId();
    }

    String url() {
      return work.getAuthorizationUrl();
    }

    Instant deadline() {
      return record.getDeadline();
    }
  }

  /** The authorization's current context, or empty once flow {@code gen} no longer owns it. */
  private Optional<Context> context(String requestId, String authzUrl, long gen) {
    if (!owners.owns(requestId, gen)) {
      return Optional.empty();
    }
    return records
        .get(requestId)
        .flatMap(
            r ->
                r.getAuthorizations().stream()
                    .filter(w -> w.getAuthorizationUrl().equals(authzUrl))
                    .findFirst()
                    .map(
                        w ->
                            new Context(
                                r,
                                w,
                                profiles.get(r.getRequest().getCaProfile()).orElseThrow(),
                                gen)));
  }

  private void start(String requestId, String authzUrl, long gen) {
    context(requestId, authzUrl, gen)
        .ifPresent(
            c ->
                apply(
                    c,
                    AuthorizationStep.start(c.work(), clock.instant(), c.deadline()),
                    NO_CHANGE));
  }

  /** Asks the step with {@code c}'s current context (if its flow still owns it), then applies. */
  private void then(Context c, Function<Context, Action> step) {
    context(c.requestId(), c.url(), c.gen())
        .ifPresent(now -> apply(now, step.apply(now), NO_CHANGE));
  }

  /**
   * Applies {@code action}; {@code seen} (the record change of the read just made, not yet written)
   * is written with the action's own change, one write instead of two.
   */
  private void apply(Context c, Action action, UnaryOperator<AuthorizationWork> seen) {
    if (action instanceof AuthorizationStep.Read read) {
      updateWork(c, seen).thenRun(() -> read(c, read));
    } else if (action instanceof AuthorizationStep.Finish finish) {
      if (finish.reused()) {
        metrics.count("authorizations.reused");
        LOGGER.info("authorization already valid, nothing to solve: authorization={}", c.url());
      }
      removeAndFinish(c, seen);
    } else if (action instanceof AuthorizationStep.NotOffered notOffered) {
      fail(c, notOffered.problem(), false);
      finish(c, seen);
    } else if (action instanceof AuthorizationStep.AlreadyTriggered) {
      LOGGER.info(
          "challenge already triggered before the restart, polling: authorization={}", c.url());
      updateWork(c, w -> AuthorizationStep.triggered(seen.apply(w)))
          .thenRun(
              () ->
                  then(
                      c,
                      now ->
                          AuthorizationStep.afterAlreadyTriggered(
                              now.work(), clock.instant(), now.deadline())));
    } else if (action instanceof AuthorizationStep.Provision provision) {
      provision(c, provision, seen);
    } else if (action instanceof AuthorizationStep.TriggerRefused refused) {
      fail(c, refused.problem(), false);
      removeAndFinish(c, seen);
    } else if (action instanceof AuthorizationStep.TimedOut timedOut) {
      timedOut(c, timedOut.problem(), seen);
    }
    // Nothing: the work is done.
  }

  /** Reads the authorization (after the action's delay), emits what changed, asks the step. */
  private void read(Context c, AuthorizationStep.Read read) {
    if (read.poll() > 0) {
      metrics.count("authorizations.polled");
    }
    ca.callAfter(c.profile(), read.delay(), () -> gateway.fetch(c.profile(), c.url(), type(c)))
        .whenComplete(
            (view, error) -> {
              if (error != null) {
                failAndFinish(c, CaCallFailure.of(error).failure());
                return;
              }
              context(c.requestId(), c.url(), c.gen())
                  .ifPresent(now -> observed(now, view, read.poll()));
            });
  }

  private void observed(Context c, AuthorizationView view, int pollNumber) {
    AuthorizationStep.Seen seen = AuthorizationStep.seen(c.work(), view);
    UnaryOperator<AuthorizationWork> remember =
        seen.any() ? w -> AuthorizationStep.remember(w, view, seen) : NO_CHANGE;
    AuthorizationWork after = remember.apply(c.work());
    emit(c, view, seen)
        .thenRun(
            () ->
                apply(
                    c,
                    AuthorizationStep.next(
                        after,
                        type(c),
                        view,
                        pollNumber,
                        clock.instant(),
                        c.deadline(),
                        poll,
                        triggerTries.refused(c.url())),
                    remember));
  }

  /** Emits the observations {@code seen} found changed; completes once they are written. */
  private CompletableFuture<Void> emit(
      Context c, AuthorizationView view, AuthorizationStep.Seen seen) {
    List<CompletableFuture<?>> sends = new ArrayList<>();
    if (seen.authorizationChanged()) {
      sends.add(
          send(
              c,
              topics.authorizationObserved,
              ChallengeEvents.authorization(
                  c.record(), c.work(), view, seen.reused(), clock.instant())));
      metrics.count(
          "authorizations.observed", "status", view.status().toString().toLowerCase(Locale.ROOT));
      Instant since = placedAt.get(c.requestId());
      if (view.status() == AcmeStatus.VALID && since != null) {
        metrics.stageLatency("authorization", since, clock.instant());
      }
    }
    if (seen.challengeChanged()) {
      sends.add(
          send(
              c,
              topics.challengeObserved,
              ChallengeEvents.challenge(
                  c.record(),
                  c.work(),
                  view.challenge().orElseThrow(),
                  ObservationSource.POLL,
                  clock.instant())));
    }
    return CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new));
  }

  /**
   * Records what is about to be served (with {@code seen}), serves it, then triggers. Nothing else
   * is recorded before the trigger: after a restart the challenge is re-read and triggered only if
   * still pending.
   */
  private void provision(
      Context c, AuthorizationStep.Provision provision, UnaryOperator<AuthorizationWork> seen) {
    ChallengeView challenge = provision.challenge();
    updateWork(
            c,
            w ->
                AuthorizationStep.provisioning(
                    seen.apply(w), provision.identifier(), challenge, type(c)))
        .thenCompose(v -> responses.provision(type(c), challenge))
        .thenAccept(
            problem -> {
              if (problem.isPresent()) {
                fail(c, problem.get(), true);
                removeAndFinish(c, NO_CHANGE);
                return;
              }
              trigger(c, challenge.url());
            });
  }

  private void trigger(Context before, String challengeUrl) {
    Optional<Context> ctx = context(before.requestId(), before.url(), before.gen());
    if (ctx.isEmpty()) {
      return;
    }
    Context c = ctx.get();
    String requestId = c.requestId();
    String authzUrl = c.url();
    metrics.count("challenges.triggered");
    ca.once(c.profile(), () -> gateway.trigger(c.profile(), challengeUrl, type(c)))
        .whenComplete(
            (challenge, error) -> {
              if (error != null) {
                triggerFailed(c, CaCallFailure.of(error).failure());
                return;
              }
              triggerTries.forget(authzUrl);
              if (challenge.status() == AcmeStatus.INVALID) {
                metrics.count("challenges.trigger.invalid");
                LOGGER.warn(
                    "the CA answered the challenge trigger with invalid; polling the authorization,"
                        + " which decides: authorization={} problem={}",
                    authzUrl,
                    challenge.error().map(Problem::getDetail).orElse(null));
              }
              send(
                      c,
                      topics.challengeObserved,
                      ChallengeEvents.challenge(
                          c.record(),
                          c.work(),
                          challenge,
                          ObservationSource.TRIGGER_RESPONSE,
                          clock.instant()))
                  .thenCompose(v -> updateWork(c, w -> AuthorizationStep.triggered(w, challenge)))
                  .thenRun(
                      () ->
                          then(
                              c,
                              now ->
                                  AuthorizationStep.afterTrigger(
                                      now.work(), clock.instant(), now.deadline(), poll)));
            });
  }

  /**
   * The trigger failed: its answer was lost or garbled (the CA may have acted on it), or the CA
   * refused it (perhaps because it already had). Either way the authorization is read again and the
   * challenge in it decides ({@link AuthorizationStep#next}); a transient failure waits as the
   * profile's retry policy says, within its budget.
   */
  private void triggerFailed(Context c, AcmeFailure failure) {
    Optional<Duration> next = triggerTries.failed(c.url(), failure, c.profile(), clock.instant());
    if (next.isEmpty()) {
      failAndFinish(c, failure);
      return;
    }
    Duration delay = next.get();
    if (failure.kind().retryable()) {
      ca.retrying(failure);
    }
    LOGGER.info(
        "the challenge trigger failed; reading the authorization again, which decides:"
            + " authorization={} kind={} problem={} delayMs={}",
        c.url(),
        failure.kind(),
        failure.problem().getType(),
        delay.toMillis());
    Duration wait = delay;
    then(c, again -> new AuthorizationStep.Read(wait, 0));
  }

  private void timedOut(Context c, Problem problem, UnaryOperator<AuthorizationWork> seen) {
    metrics.count("authorizations.timed.out");
    LOGGER.warn(
        "authorization still pending at its deadline: authorization={} deadline={}",
        c.url(),
        c.deadline());
    AuthorizationWork last = seen.apply(c.work());
    send(
            c,
            topics.authorizationObserved,
            ChallengeEvents.timedOut(c.record(), last, problem, clock.instant()))
        .thenRun(() -> removeAndFinish(c, seen));
  }

  /** A CA call gave up: the failure of the challenge stage, then the response removed. */
  private void failAndFinish(Context c, AcmeFailure failure) {
    fail(c, failure.problem(), failure.kind().retryable());
    removeAndFinish(c, NO_CHANGE);
  }

  /** The challenge stage's failure, unless this flow no longer owns the request. */
  private void fail(Context c, Problem problem, boolean retryable) {
    if (!owns(c)) {
      return;
    }
    ca.fail(
        c.record().getRequest(),
        Stage.CHALLENGE,
        problem,
        retryable,
        c.record().getOrderUrl(),
        c.url());
  }

  /** Removes the served response (as now recorded), then marks the work done with {@code seen}. */
  private void removeAndFinish(Context c, UnaryOperator<AuthorizationWork> seen) {
    context(c.requestId(), c.url(), c.gen())
        .ifPresent(now -> responses.remove(now.work()).thenRun(() -> finish(now, seen)));
  }

  /** Sends {@code event} for {@code c}'s request, unless its flow no longer owns it. */
  private <V> CompletableFuture<Void> send(Context c, Topic<String, V> topic, V event) {
    if (!owns(c)) {
      return CompletableFuture.failedFuture(revoked(c));
    }
    return publisher.send(topic, c.requestId(), event).thenRun(() -> {});
  }

  private static CancellationException revoked(Context c) {
    return new CancellationException(
        "the work of request " + c.requestId() + " moved away from this flow");
  }

  private void finish(Context c, UnaryOperator<AuthorizationWork> seen) {
    triggerTries.forget(c.url());
    updateWork(c, w -> AuthorizationStep.done(seen.apply(w)))
        .thenRun(
            () -> {
              boolean all =
                  records.get(c.requestId()).stream()
                      .flatMap(r -> r.getAuthorizations().stream())
                      .allMatch(x -> x.getState() == AuthorizationWorkState.DONE);
              if (all) {
                placedAt.remove(c.requestId());
                owners.release(c.requestId(), c.gen());
                LOGGER.info(
                    "every authorization of the order is terminal: requestId={}", c.requestId());
              }
            });
  }

  private static ChallengeType type(Context c) {
    return c.record().getRequest().getChallengeType();
  }

  private CompletableFuture<Void> updateWork(Context c, UnaryOperator<AuthorizationWork> change) {
    if (change == NO_CHANGE) {
      return CompletableFuture.completedFuture(null);
    }
    if (!owns(c)) {
      return CompletableFuture.failedFuture(revoked(c));
    }
    return records.update(
        c.requestId(),
        r -> {
          if (r == null || !owns(c)) {
            // Unloaded with its partition since the check above: written by the next owner only.
            throw revoked(c);
          }
          List<AuthorizationWork> works = new ArrayList<>();
          for (AuthorizationWork w : r.getAuthorizations()) {
            works.add(w.getAuthorizationUrl().equals(c.url()) ? change.apply(w) : w);
          }
          return ChallengeRecord.newBuilder(r)
              .setAuthorizations(works)
              .setUpdatedAt(clock.instant())
              .build();
        });
  }
}
