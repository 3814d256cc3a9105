package dev.renewal.challenge.handler;

import dev.renewal.acme.AcmeFailure;
import dev.renewal.acme.CaProfile;
import dev.renewal.acme.CaProfiles;
import dev.renewal.acme.Pacer;
import dev.renewal.acme.PollPolicy;
import dev.renewal.acme.RetryingCall;
import dev.renewal.challenge.acme.AuthorizationGateway;
import dev.renewal.challenge.acme.AuthorizationView;
import dev.renewal.challenge.acme.ChallengeView;
import dev.renewal.challenge.dns.DnsProvider;
import dev.renewal.challenge.dns.TxtLookup;
import dev.renewal.challenge.http01.Http01Responses;
import dev.renewal.events.AcmeStatus;
import dev.renewal.events.AuthorizationObserved;
import dev.renewal.events.AuthorizationWork;
import dev.renewal.events.AuthorizationWorkState;
import dev.renewal.events.ChallengeObserved;
import dev.renewal.events.ChallengeRecord;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.ObservationSource;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.Problem;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.Stage;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.topics.CompactedStore;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries every authorization of an order to a terminal observation, one step at a time: fetch the
 * authorization (authoritative, RFC 8555 section 7.5.1); if it is already valid (reuse), solve
 * nothing; else provision the response, trigger the challenge, and poll the authorization until it
 * is terminal or the deadline passes. A challenge that answers {@code invalid} is evidence, not a
 * verdict: polling goes on and the authorization decides.
 *
 * <p>Every step is recorded in the order's {@link ChallengeRecord} before the next: after a
 * restart, authorizations without a terminal observation are polled again, and a challenge whose
 * trigger may have been sent is re-read and triggered only if it is still pending. Waiting is
 * rescheduling; every CA call runs through the profile's {@link Pacer}.
 */
public final class ChallengeHandler {
  private static final Logger LOGGER = LoggerFactory.getLogger(ChallengeHandler.class);

  /** A record change that changes nothing: {@link #updateWork} writes nothing for it. */
  private static final UnaryOperator<AuthorizationWork> NO_CHANGE = w -> w;

  private static final Set<AcmeStatus> TERMINAL =
      EnumSet.of(
          AcmeStatus.VALID,
          AcmeStatus.INVALID,
          AcmeStatus.DEACTIVATED,
          AcmeStatus.EXPIRED,
          AcmeStatus.REVOKED);

  /** Problem type: our own responder did not serve the token in time. */
  public static final String SELF_CHECK_FAILED = "urn:renewal:problem:self-check-failed";

  /** Problem type: the CA does not offer the requested challenge type. */
  public static final String CHALLENGE_NOT_OFFERED = "urn:renewal:problem:challenge-not-offered";

  /** Problem type: the DNS-01 record did not become visible in time, or could not be written. */
  public static final String DNS_FAILED = "urn:renewal:problem:dns";

  private final CaProfiles profiles;
  private final Map<String, Pacer> pacers;
  private final AuthorizationGateway gateway;
  private final CompactedStore<ChallengeRecord> records;
  private final Http01Responses http01;
  private final SelfCheck selfCheck;
  private final DnsProvider dns;
  private final Optional<TxtLookup> txtLookup;
  private final Duration dnsPropagationTimeout;
  private final ExecutorService dnsWorkers;
  private final Publisher publisher;
  private final Topics topics;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final PollPolicy poll;
  private final ServiceMetrics metrics;

  /** Requests with work in progress on this instance (for cancellation on revocation). */
  private final Set<String> active = ConcurrentHashMap.newKeySet();

  /** When each active order was placed (from its OrderPlaced; unknown after a restart). */
  private final Map<String, java.time.Instant> placedAt = new ConcurrentHashMap<>();

  private final Set<String> cancelled = ConcurrentHashMap.newKeySet();

  public ChallengeHandler(
      CaProfiles profiles,
      Map<String, Pacer> pacers,
      AuthorizationGateway gateway,
      CompactedStore<ChallengeRecord> records,
      Http01Responses http01,
      SelfCheck selfCheck,
      DnsProvider dns,
      Optional<TxtLookup> txtLookup,
      Duration dnsPropagationTimeout,
      ExecutorService dnsWorkers,
      Publisher publisher,
      Topics topics,
      Clock clock,
      ScheduledExecutorService scheduler,
      PollPolicy poll,
      ServiceMetrics metrics) {
    this.profiles = profiles;
    this.pacers = Map.copyOf(pacers);
    this.gateway = gateway;
    this.records = records;
    this.http01 = http01;
    this.selfCheck = selfCheck;
    this.dns = dns;
    this.txtLookup = txtLookup;
    this.dnsPropagationTimeout = dnsPropagationTimeout;
    this.dnsWorkers = dnsWorkers;
    this.publisher = publisher;
    this.topics = topics;
    this.clock = clock;
    this.scheduler = scheduler;
    this.poll = poll;
    this.metrics = metrics;
    metrics.inFlight("orders", active::size);
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
      Problem problem =
          problem(
              "urn:renewal:problem:unknown-ca-profile",
              "CA profile '"
                  + placed.getRequest().getCaProfile()
                  + "' is not configured in challenge-service");
      return fail(placed.getRequest(), placed.getOrderUrl(), null, problem, false);
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
    cancelled.remove(requestId);
    return write(requestId, r -> record)
        .thenRun(
            () -> {
              LOGGER.info(
                  "order recorded, solving: requestId={} authorizations={} type={}",
                  requestId,
                  works.size(),
                  placed.getRequest().getChallengeType());
              works.forEach(w -> step(requestId, w.getAuthorizationUrl()));
            });
  }

  /** Resumes every authorization of {@code loaded} records that has no terminal observation. */
  public void resume(Map<String, ChallengeRecord> loaded) {
    loaded.forEach(
        (requestId, record) -> {
          cancelled.remove(requestId);
          for (AuthorizationWork w : record.getAuthorizations()) {
            if (w.getState() != AuthorizationWorkState.DONE) {
              metrics.count("authorizations.resumed");
              LOGGER.info(
                  "resuming authorization: requestId={} authorization={} state={}",
                  requestId,
                  w.getAuthorizationUrl(),
                  w.getState());
              step(requestId, w.getAuthorizationUrl());
            }
          }
        });
  }

  /** Stops the work of requests in partitions this instance no longer owns. */
  public void cancel(Collection<Integer> partitions) {
    for (String requestId : List.copyOf(active)) {
      if (partitions.contains(records.partitionOf(requestId))) {
        cancelled.add(requestId);
      }
    }
  }

  private Optional<Context> context(String requestId, String authzUrl) {
    if (cancelled.contains(requestId)) {
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
                                r.getRequest().getChallengeType())));
  }

  /** The record, this authorization's work, its profile and challenge type. */
  private record Context(
      ChallengeRecord record, AuthorizationWork work, CaProfile profile, ChallengeType type) {
    String requestId() {
      return record.getRequestId();
    }

    String url() {
      return work.getAuthorizationUrl();
    }
  }

  private void step(String requestId, String authzUrl) {
    Optional<Context> ctx = context(requestId, authzUrl);
    if (ctx.isEmpty()) {
      return;
    }
    Context c = ctx.get();
    switch (c.work().getState()) {
      // TRIGGERING: written before the trigger by earlier versions; begin() re-reads and decides.
      case NEW, TRIGGERING -> begin(c);
      case TRIGGERED -> pollLater(requestId, authzUrl, Duration.ZERO, 1);
      default -> {
        // DONE: nothing to do
      }
    }
  }

  private void begin(Context c) {
    call(
        c,
        () -> gateway.fetch(c.profile(), c.url(), c.type()),
        view -> {
          observe(c, view, false)
              .thenAccept(
                  seen -> {
                    if (TERMINAL.contains(view.status())) {
                      if (view.status() == AcmeStatus.VALID) {
                        metrics.count("authorizations.reused");
                        LOGGER.info(
                            "authorization already valid, nothing to solve: authorization={}",
                            c.url());
                      }
                      cleanupAndDone(c.requestId(), c.url(), seen);
                      return;
                    }
                    if (view.challenge().isEmpty()) {
                      fail(
                          c.record().getRequest(),
                          c.record().getOrderUrl(),
                          c.url(),
                          problem(
                              CHALLENGE_NOT_OFFERED,
                              "the CA does not offer "
                                  + c.type()
                                  + " for "
                                  + view.identifier()
                                  + " (authorization "
                                  + c.url()
                                  + ")"),
                          false);
                      done(c.requestId(), c.url(), seen);
                      return;
                    }
                    ChallengeView challenge = view.challenge().get();
                    // Provisioning details recorded: a trigger may have been sent before a
                    // restart (they are written just before it). Then trigger only a pending
                    // challenge, never twice; without them, nothing was sent.
                    boolean mayHaveTriggered = c.work().getChallengeUrl() != null;
                    if (mayHaveTriggered && challenge.status() != AcmeStatus.PENDING) {
                      LOGGER.info(
                          "challenge already triggered before the restart, polling:"
                              + " authorization={} challenge={}",
                          c.url(),
                          challenge.status());
                      updateWork(
                              c.requestId(),
                              c.url(),
                              w ->
                                  AuthorizationWork.newBuilder(seen.apply(w))
                                      .setState(AuthorizationWorkState.TRIGGERED)
                                      .build())
                          .thenRun(() -> pollLater(c.requestId(), c.url(), Duration.ZERO, 1));
                      return;
                    }
                    provisionAndTrigger(c, view, challenge, seen);
                  });
        });
  }

  /**
   * Provisions the response and triggers the challenge. {@code seen} (the record change of the
   * observation just made) is written with the provisioning details, in one write.
   */
  private void provisionAndTrigger(
      Context c,
      AuthorizationView view,
      ChallengeView challenge,
      UnaryOperator<AuthorizationWork> seen) {
    CompletableFuture<Void> provisioned;
    UnaryOperator<AuthorizationWork> remember;
    if (c.type() == ChallengeType.DNS_01) {
      String name = challenge.recordName().orElseThrow();
      remember =
          w ->
              AuthorizationWork.newBuilder(seen.apply(w))
                  .setIdentifier(view.identifier())
                  .setChallengeUrl(challenge.url())
                  .setTxtName(name)
                  .setTxtValue(challenge.response())
                  .build();
      provisioned =
          CompletableFuture.runAsync(() -> dns.present(name, challenge.response()), dnsWorkers)
              .thenCompose(v -> awaitTxt(name, challenge.response()));
    } else {
      remember =
          w ->
              AuthorizationWork.newBuilder(seen.apply(w))
                  .setIdentifier(view.identifier())
                  .setChallengeUrl(challenge.url())
                  .setToken(challenge.token())
                  .build();
      provisioned =
          http01
              .publish(challenge.token(), challenge.response())
              .thenCompose(v -> selfCheck.await(challenge.token(), challenge.response()))
              .thenAccept(
                  ok -> {
                    if (!ok) {
                      throw new ProvisioningFailure(
                          problem(
                              SELF_CHECK_FAILED,
                              "this instance's HTTP-01 responder did not serve token "
                                  + challenge.token()
                                  + " within the self-check timeout"));
                    }
                  });
    }
    // Remember what was provisioned first, so that it can be removed whatever happens next. No
    // state is written before the trigger: after a restart, begin() re-reads the challenge and
    // triggers only a pending one.
    updateWork(c.requestId(), c.url(), remember)
        .thenCompose(v -> provisioned)
        .whenComplete(
            (v, e) -> {
              if (e != null) {
                Throwable cause = e instanceof CompletionException ? e.getCause() : e;
                Problem p =
                    cause instanceof ProvisioningFailure pf
                        ? pf.problem
                        : problem(
                            DNS_FAILED,
                            "provisioning the challenge response failed: " + cause.getMessage());
                fail(c.record().getRequest(), c.record().getOrderUrl(), c.url(), p, true);
                cleanupAndDone(c.requestId(), c.url());
                return;
              }
              trigger(c.requestId(), c.url(), challenge.url());
            });
  }

  private CompletableFuture<Void> awaitTxt(String name, String value) {
    if (txtLookup.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> result = new CompletableFuture<>();
    long deadline = System.nanoTime() + dnsPropagationTimeout.toNanos();
    checkTxt(name, value, deadline, result, 50);
    return result;
  }

  private void checkTxt(
      String name, String value, long deadline, CompletableFuture<Void> result, long delayMs) {
    CompletableFuture.supplyAsync(() -> txtLookup.get().values(name), dnsWorkers)
        .handle((values, e) -> e == null && values.contains(value))
        .thenAccept(
            seen -> {
              if (seen) {
                result.complete(null);
              } else if (System.nanoTime() > deadline) {
                result.completeExceptionally(
                    new ProvisioningFailure(
                        problem(
                            DNS_FAILED,
                            "TXT record "
                                + name
                                + " not visible within "
                                + dnsPropagationTimeout)));
              } else {
                scheduler.schedule(
                    () -> checkTxt(name, value, deadline, result, Math.min(delayMs * 2, 2000)),
                    delayMs,
                    TimeUnit.MILLISECONDS);
              }
            });
  }

  private void trigger(String requestId, String authzUrl, String challengeUrl) {
    Optional<Context> ctx = context(requestId, authzUrl);
    if (ctx.isEmpty()) {
      return;
    }
    Context c = ctx.get();
    metrics.count("challenges.triggered");
    call(
        c,
        () -> gateway.trigger(c.profile(), challengeUrl, c.type()),
        challenge -> {
          ChallengeObserved observed =
              challengeObserved(c, challenge, ObservationSource.TRIGGER_RESPONSE);
          if (challenge.status() == AcmeStatus.INVALID) {
            metrics.count("challenges.trigger.invalid");
            LOGGER.warn(
                "the CA answered the challenge trigger with invalid; polling the authorization, which"
                    + " decides: authorization={} problem={}",
                authzUrl,
                challenge.error().map(Problem::getDetail).orElse(null));
          }
          publisher
              .send(topics.challengeObserved, requestId, observed)
              .thenCompose(
                  v ->
                      updateWork(
                          requestId,
                          authzUrl,
                          w ->
                              AuthorizationWork.newBuilder(w)
                                  .setState(AuthorizationWorkState.TRIGGERED)
                                  .setLastChallengeStatus(challenge.status())
                                  .build()))
              .thenRun(() -> pollLater(requestId, authzUrl, poll.initial(), 1));
        });
  }

  private void pollLater(String requestId, String authzUrl, Duration delay, int pollNumber) {
    Optional<Context> ctx = context(requestId, authzUrl);
    if (ctx.isEmpty() || ctx.get().work().getState() == AuthorizationWorkState.DONE) {
      return;
    }
    Context c = ctx.get();
    if (clock.instant().isAfter(c.record().getDeadline())) {
      timedOut(c);
      return;
    }
    metrics.count("authorizations.polled");
    Pacer pacer = pacers.get(c.profile().name());
    pacer
        .submitAfter(delay, () -> gateway.fetch(c.profile(), authzUrl, c.type()))
        .whenComplete(
            (view, error) -> {
              if (error != null) {
                retryOrFail(
                    c,
                    error,
                    pollNumber,
                    () -> pollLater(requestId, authzUrl, poll.initial(), pollNumber + 1));
                return;
              }
              Optional<Context> now = context(requestId, authzUrl);
              if (now.isEmpty()) {
                return;
              }
              observe(now.get(), view, true)
                  .thenAccept(
                      seen -> {
                        if (TERMINAL.contains(view.status())) {
                          // One write: the last observation and DONE.
                          cleanupAndDone(requestId, authzUrl, seen);
                        } else {
                          updateWork(requestId, authzUrl, seen)
                              .thenRun(
                                  () ->
                                      pollLater(
                                          requestId,
                                          authzUrl,
                                          poll.next(pollNumber, view.retryAfter(), clock.instant()),
                                          pollNumber + 1));
                        }
                      });
            });
  }

  private void timedOut(Context c) {
    metrics.count("authorizations.timed.out");
    LOGGER.warn(
        "authorization still pending at its deadline: authorization={} deadline={}",
        c.url(),
        c.record().getDeadline());
    AuthorizationObserved observed =
        AuthorizationObserved.newBuilder()
            .setEventId(UUID.randomUUID().toString())
            .setRequestId(c.requestId())
            .setOccurredAt(clock.instant())
            .setOrderUrl(c.record().getOrderUrl())
            .setAuthorizationUrl(c.url())
            .setIdentifier(String.valueOf(c.work().getIdentifier()))
            .setStatus(AcmeStatus.TIMED_OUT)
            .setRawStatus(null)
            .setSource(ObservationSource.DEADLINE)
            .setProblem(
                problem(
                    "urn:renewal:problem:authorization-timeout",
                    "the authorization was still "
                        + c.work()
                            .getLastAuthorizationStatus()
                            .toString()
                            .toLowerCase(java.util.Locale.ROOT)
                        + " at its deadline "
                        + c.record().getDeadline()))
            .build();
    publisher
        .send(topics.authorizationObserved, c.requestId(), observed)
        .thenRun(() -> cleanupAndDone(c.requestId(), c.url()));
  }

  /**
   * Emits what changed since the last observation of this authorization: its status, and (once
   * triggered) the status of the challenge inside it. Completes, once the events are written, with
   * the change of the record that remembers them ({@link #NO_CHANGE} when nothing changed); the
   * caller writes it with its own next change, one write instead of two.
   */
  private CompletableFuture<UnaryOperator<AuthorizationWork>> observe(
      Context c, AuthorizationView view, boolean triggered) {
    AuthorizationWork w = c.work();
    List<CompletableFuture<?>> sends = new ArrayList<>();
    boolean authzChanged = view.status() != w.getLastAuthorizationStatus();
    Optional<ChallengeView> challenge = view.challenge();
    boolean challengeChanged =
        triggered
            && challenge.isPresent()
            && challenge.get().status() != w.getLastChallengeStatus();
    if (authzChanged) {
      boolean reused =
          !triggered
              && w.getState() == AuthorizationWorkState.NEW
              && view.status() == AcmeStatus.VALID;
      AuthorizationObserved observed =
          AuthorizationObserved.newBuilder()
              .setEventId(UUID.randomUUID().toString())
              .setRequestId(c.requestId())
              .setOccurredAt(clock.instant())
              .setOrderUrl(c.record().getOrderUrl())
              .setAuthorizationUrl(c.url())
              .setIdentifier(view.identifier())
              .setWildcard(view.wildcard())
              .setStatus(view.status())
              .setRawStatus(view.rawStatus().orElse(null))
              .setSource(ObservationSource.POLL)
              .setProblem(
                  view.status() == AcmeStatus.VALID
                      ? null
                      : challenge.flatMap(ChallengeView::error).orElse(null))
              .setExpires(view.expires().orElse(null))
              .setReused(reused)
              .build();
      sends.add(publisher.send(topics.authorizationObserved, c.requestId(), observed));
      metrics.count(
          "authorizations.observed",
          "status",
          view.status().toString().toLowerCase(java.util.Locale.ROOT));
      if (view.status() == AcmeStatus.VALID) {
        java.time.Instant since = placedAt.get(c.requestId());
        if (since != null) {
          metrics.stageLatency("authorization", since, clock.instant());
        }
      }
    }
    if (challengeChanged) {
      sends.add(
          publisher.send(
              topics.challengeObserved,
              c.requestId(),
              challengeObserved(c, challenge.get(), ObservationSource.POLL)));
    }
    if (sends.isEmpty()) {
      return CompletableFuture.completedFuture(NO_CHANGE);
    }
    UnaryOperator<AuthorizationWork> seen =
        x -> {
          AuthorizationWork.Builder b =
              AuthorizationWork.newBuilder(x)
                  .setIdentifier(view.identifier())
                  .setLastAuthorizationStatus(view.status());
          if (challengeChanged) {
            b.setLastChallengeStatus(challenge.get().status());
          }
          return b.build();
        };
    return CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).thenApply(v -> seen);
  }

  private ChallengeObserved challengeObserved(
      Context c, ChallengeView challenge, ObservationSource source) {
    return ChallengeObserved.newBuilder()
        .setEventId(UUID.randomUUID().toString())
        .setRequestId(c.requestId())
        .setOccurredAt(clock.instant())
        .setOrderUrl(c.record().getOrderUrl())
        .setAuthorizationUrl(c.url())
        .setChallengeUrl(challenge.url())
        .setChallengeType(c.type())
        .setIdentifier(String.valueOf(c.work().getIdentifier()))
        .setStatus(challenge.status())
        .setRawStatus(challenge.rawStatus().orElse(null))
        .setSource(source)
        .setProblem(challenge.error().orElse(null))
        .build();
  }

  /** Removes the provisioned response (token tombstone or TXT record), then marks the work DONE. */
  private void cleanupAndDone(String requestId, String authzUrl) {
    cleanupAndDone(requestId, authzUrl, NO_CHANGE);
  }

  /** The same, writing {@code last} (the last observation's record change) with DONE. */
  private void cleanupAndDone(
      String requestId, String authzUrl, UnaryOperator<AuthorizationWork> last) {
    Optional<Context> ctx = context(requestId, authzUrl);
    if (ctx.isEmpty()) {
      return;
    }
    AuthorizationWork w = ctx.get().work();
    CompletableFuture<Void> cleanup = CompletableFuture.completedFuture(null);
    if (w.getToken() != null) {
      cleanup = http01.remove(w.getToken());
    } else if (w.getTxtName() != null) {
      cleanup =
          CompletableFuture.runAsync(
              () -> dns.cleanup(w.getTxtName(), w.getTxtValue()), dnsWorkers);
    }
    cleanup
        .exceptionally(
            e -> {
              LOGGER.warn(
                  "removing the challenge response failed (left behind): authorization={} error={}",
                  authzUrl,
                  e.toString());
              return null;
            })
        .thenCompose(v -> done(requestId, authzUrl, last));
  }

  private CompletableFuture<Void> done(
      String requestId, String authzUrl, UnaryOperator<AuthorizationWork> last) {
    return updateWork(
            requestId,
            authzUrl,
            w ->
                AuthorizationWork.newBuilder(last.apply(w))
                    .setState(AuthorizationWorkState.DONE)
                    .build())
        .thenRun(
            () -> {
              boolean all =
                  records.get(requestId).stream()
                      .flatMap(r -> r.getAuthorizations().stream())
                      .allMatch(x -> x.getState() == AuthorizationWorkState.DONE);
              if (all) {
                active.remove(requestId);
                placedAt.remove(requestId);
                LOGGER.info(
                    "every authorization of the order is terminal: requestId={}", requestId);
              }
            });
  }

  /** Runs a CA call through the pacer; transient failures are retried, terminal ones fail. */
  private <T> void call(Context c, Supplier<T> operation, java.util.function.Consumer<T> then) {
    RetryingCall.run(
            pacers.get(c.profile().name()),
            c.profile(),
            clock,
            operation,
            (attempt, f, delay) -> metrics.count("ca.retries", "kind", f.kind().name()))
        .whenComplete(
            (value, error) -> {
              if (error == null) {
                then.accept(value);
                return;
              }
              AcmeFailure failure = RetryingCall.GaveUp.of(error).failure();
              fail(
                  c.record().getRequest(),
                  c.record().getOrderUrl(),
                  c.url(),
                  failure.problem(),
                  failure.kind().retryable());
              cleanupAndDone(c.requestId(), c.url());
            });
  }

  private void retryOrFail(Context c, Throwable error, int pollNumber, Runnable retry) {
    AcmeFailure failure = AcmeFailure.classify(error);
    if (failure.kind().retryable() && clock.instant().isBefore(c.record().getDeadline())) {
      metrics.count("ca.retries", "kind", failure.kind().name());
      Duration delay = poll.next(pollNumber, failure.retryAfter(), clock.instant());
      scheduler.schedule(retry, delay.toMillis(), TimeUnit.MILLISECONDS);
      return;
    }
    fail(
        c.record().getRequest(),
        c.record().getOrderUrl(),
        c.url(),
        failure.problem(),
        failure.kind().retryable());
    cleanupAndDone(c.requestId(), c.url());
  }

  private CompletableFuture<Void> fail(
      dev.renewal.events.RenewalRequested request,
      String orderUrl,
      String authzUrl,
      Problem problem,
      boolean retryable) {
    metrics.failed(Stage.CHALLENGE, problem.getType());
    LOGGER.info(
        "renewal failed at the challenge stage: requestId={} authorization={} problem={} retryable={}",
        request.getRequestId(),
        authzUrl,
        problem.getType(),
        retryable);
    RenewalFailed failed =
        RenewalFailed.newBuilder()
            .setEventId(UUID.randomUUID().toString())
            .setRequestId(request.getRequestId())
            .setOccurredAt(clock.instant())
            .setStage(Stage.CHALLENGE)
            .setProblem(problem)
            .setRetryable(retryable)
            .setOrderUrl(orderUrl)
            .setAuthorizationUrl(authzUrl)
            .setRequest(request)
            .build();
    return publisher.send(topics.renewalFailed, request.getRequestId(), failed).thenRun(() -> {});
  }

  private CompletableFuture<Void> updateWork(
      String requestId, String authzUrl, UnaryOperator<AuthorizationWork> change) {
    if (change == NO_CHANGE) {
      return CompletableFuture.completedFuture(null);
    }
    return write(
        requestId,
        r -> {
          List<AuthorizationWork> works = new ArrayList<>();
          for (AuthorizationWork w : r.getAuthorizations()) {
            works.add(w.getAuthorizationUrl().equals(authzUrl) ? change.apply(w) : w);
          }
          return ChallengeRecord.newBuilder(r)
              .setAuthorizations(works)
              .setUpdatedAt(clock.instant())
              .build();
        });
  }

  private CompletableFuture<Void> write(String requestId, UnaryOperator<ChallengeRecord> change) {
    active.add(requestId);
    return records.update(requestId, change);
  }

  private static Problem problem(String type, String detail) {
    return Problem.newBuilder().setType(type).setDetail(detail).build();
  }

  /** Provisioning the response failed with this problem. */
  private static final class ProvisioningFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Problem problem;

    ProvisioningFailure(Problem problem) {
      super(problem.getDetail());
      this.problem = problem;
    }
  }
}
