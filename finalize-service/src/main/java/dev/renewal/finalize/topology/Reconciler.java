package dev.renewal.finalize.topology;

import dev.renewal.contract.RenewalFailures;
import dev.renewal.events.AcmeStatus;
import dev.renewal.events.AuthorizationEvidence;
import dev.renewal.events.AuthorizationObserved;
import dev.renewal.events.AuthorizationReconciled;
import dev.renewal.events.ChallengeObserved;
import dev.renewal.events.Decision;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.OrderReady;
import dev.renewal.events.ReconciliationInput;
import dev.renewal.events.ReconciliationState;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.Stage;
import dev.renewal.finalize.domain.Reconciliation;
import dev.renewal.metrics.ServiceMetrics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per request (the key), keeps the order and the evidence of each authorization in a store with a
 * changelog, applies {@link Reconciliation} on every observation whatever the order they arrive in,
 * and emits: {@code AuthorizationReconciled} once per decision (keyed by authorization URL), then
 * per order either {@code OrderReady} (every authorization valid, or the order already ready) or
 * {@code RenewalFailed} (an authorization failed). A wall-clock punctuator expires WAITING
 * decisions whose grace period passed; its time survives restarts because {@code waitingSince} is
 * in the store. It visits only the requests that have a WAITING decision: an index kept in memory
 * beside the store and rebuilt from it when the task starts (processors start after their stores
 * are restored). A second, rarer punctuator deletes every state that has not changed for the
 * retention, so that the store holds the requests of the last retention period, not every request
 * ever reconciled.
 */
final class Reconciler implements Processor<String, ReconciliationInput, String, SpecificRecord> {
  private static final Logger LOGGER = LoggerFactory.getLogger(Reconciler.class);

  private final String storeName;
  private final Duration grace;
  private final Duration punctuateEvery;
  private final Duration retention;
  private final ServiceMetrics metrics;
  private final DecisionCommits commits;
  private final Set<String> waiting = new HashSet<>();
  private ProcessorContext<String, SpecificRecord> context;
  private KeyValueStore<String, ReconciliationState> store;

  Reconciler(
      String storeName,
      Duration grace,
      Duration punctuateEvery,
      Duration retention,
      ServiceMetrics metrics,
      DecisionCommits commits) {
    this.storeName = storeName;
    this.grace = grace;
    this.punctuateEvery = punctuateEvery;
    this.retention = retention;
    this.metrics = metrics;
    this.commits = commits;
  }

  /** An order decision was forwarded: commit at once if decisions are sparse (DecisionCommits). */
  private void commitIfSparse(long now) {
    if (commits.decided(now)) {
      context.commit();
    }
  }

  /** How often the retention sweep runs: a tenth of the retention, between 1 s and 1 h. */
  static Duration sweepEvery(Duration retention) {
    Duration tenth = retention.dividedBy(10);
    if (tenth.compareTo(Duration.ofSeconds(1)) < 0) {
      return Duration.ofSeconds(1);
    }
    return tenth.compareTo(Duration.ofHours(1)) > 0 ? Duration.ofHours(1) : tenth;
  }

  @Override
  public void init(ProcessorContext<String, SpecificRecord> context) {
    this.context = context;
    this.store = context.getStateStore(storeName);
    try (KeyValueIterator<String, ReconciliationState> all = store.all()) {
      while (all.hasNext()) {
        KeyValue<String, ReconciliationState> kv = all.next();
        index(kv.key, kv.value);
      }
    }
    context.schedule(punctuateEvery, PunctuationType.WALL_CLOCK_TIME, this::expireWaiting);
    context.schedule(sweepEvery(retention), PunctuationType.WALL_CLOCK_TIME, this::sweep);
  }

  private void index(String requestId, ReconciliationState state) {
    if (state.getAuthorizations().values().stream()
        .anyMatch(e -> e.getDecision() == Decision.WAITING)) {
      waiting.add(requestId);
    } else {
      waiting.remove(requestId);
    }
  }

  private void save(String requestId, ReconciliationState state, long now) {
    state.setUpdatedAt(now);
    store.put(requestId, state);
    index(requestId, state);
  }

  @Override
  public void process(Record<String, ReconciliationInput> record) {
    String requestId = record.key();
    ReconciliationInput in = record.value();
    if (requestId == null || in == null) {
      return;
    }
    ReconciliationState state = store.get(requestId);
    if (state == null) {
      state =
          ReconciliationState.newBuilder()
              .setRequestId(requestId)
              .setAuthorizations(new HashMap<>())
              .build();
    }
    Map<String, AuthorizationEvidence> evidence = new HashMap<>(state.getAuthorizations());
    List<String> touched = new ArrayList<>();
    if (in.getPlaced() != null) {
      OrderPlaced p = in.getPlaced();
      OrderPlaced known = state.getPlaced();
      // A replay keeps the request id: a newer attempt's order starts a new decision.
      if (known == null
          || (!known.getOrderUrl().equals(p.getOrderUrl())
              && p.getRequest().getAttempt() > known.getRequest().getAttempt())) {
        state.setPlaced(p);
        state.setOrderDecided(false);
      }
    } else if (in.getChallenge() != null) {
      ChallengeObserved c = in.getChallenge();
      evidence.put(
          c.getAuthorizationUrl(),
          Reconciliation.withChallenge(
              evidence(evidence, c.getAuthorizationUrl()),
              c.getStatus(),
              c.getProblem(),
              c.getIdentifier(),
              c.getOrderUrl()));
      touched.add(c.getAuthorizationUrl());
    } else if (in.getAuthorization() != null) {
      AuthorizationObserved a = in.getAuthorization();
      evidence.put(
          a.getAuthorizationUrl(),
          Reconciliation.withAuthorization(
              evidence(evidence, a.getAuthorizationUrl()),
              a.getStatus(),
              a.getProblem(),
              a.getIdentifier(),
              a.getOrderUrl()));
      touched.add(a.getAuthorizationUrl());
    }
    long now = context.currentSystemTimeMs();
    for (String url : touched) {
      decide(requestId, url, evidence, now);
    }
    state.setAuthorizations(evidence);
    decideOrder(state, now);
    save(requestId, state, now);
  }

  private static AuthorizationEvidence evidence(
      Map<String, AuthorizationEvidence> all, String url) {
    AuthorizationEvidence e = all.get(url);
    return e != null ? e : AuthorizationEvidence.newBuilder().build();
  }

  private void decide(
      String requestId, String url, Map<String, AuthorizationEvidence> evidence, long now) {
    AuthorizationEvidence e = evidence.get(url);
    Optional<Reconciliation.Verdict> verdict = Reconciliation.decide(e, now, grace);
    if (verdict.isEmpty()) {
      return;
    }
    Reconciliation.Verdict v = verdict.get();
    AuthorizationEvidence.Builder b = AuthorizationEvidence.newBuilder(e).setDecision(v.decision());
    if (v.decision() == Decision.WAITING) {
      b.setWaitingSince(now);
    }
    evidence.put(url, b.build());
    metrics.count(
        "authorizations.reconciled",
        "decision",
        v.decision().toString().toLowerCase(java.util.Locale.ROOT));
    if (v.contradiction()) {
      metrics.count("contradictions.reconciled");
      LOGGER.warn(
          "the CA contradicted itself: a challenge said invalid, the authorization is valid; going on:"
              + " requestId={} authorization={}",
          requestId,
          url);
    }
    AuthorizationReconciled reconciled =
        AuthorizationReconciled.newBuilder()
            .setEventId(UUID.randomUUID().toString())
            .setRequestId(requestId)
            .setOccurredAt(Instant.ofEpochMilli(now))
            .setOrderUrl(String.valueOf(e.getOrderUrl()))
            .setAuthorizationUrl(url)
            .setIdentifier(String.valueOf(e.getIdentifier()))
            .setDecision(v.decision())
            .setReason(v.reason())
            .setContradiction(v.contradiction())
            .setChallengeStatus(e.getChallengeStatus())
            .setAuthorizationStatus(e.getAuthorizationStatus())
            .setProblem(v.problem())
            .build();
    context.forward(new Record<>(url, reconciled, now));
  }

  private void decideOrder(ReconciliationState state, long now) {
    OrderPlaced placed = state.getPlaced();
    if (placed == null || state.getOrderDecided()) {
      return;
    }
    Map<String, AuthorizationEvidence> evidence = state.getAuthorizations();
    for (String url : placed.getAuthorizationUrls()) {
      AuthorizationEvidence e = evidence.get(url);
      if (e != null && e.getDecision() == Decision.FAILED) {
        boolean graceExpired = !Reconciliation.isFailedStatus(e.getAuthorizationStatus());
        boolean timedOut = graceExpired || e.getAuthorizationStatus() == AcmeStatus.TIMED_OUT;
        dev.renewal.events.Problem problem;
        if (graceExpired) {
          problem = Reconciliation.graceProblem(e, grace);
        } else if (e.getAuthorizationProblem() != null) {
          problem = e.getAuthorizationProblem();
        } else if (e.getChallengeProblem() != null) {
          problem = e.getChallengeProblem();
        } else {
          problem =
              dev.renewal.events.Problem.newBuilder()
                  .setType("urn:renewal:problem:authorization-failed")
                  .setDetail("authorization " + url + " is " + e.getAuthorizationStatus())
                  .build();
        }
        RenewalFailed failed =
            RenewalFailures.event(
                Instant.ofEpochMilli(now),
                placed.getRequest(),
                Stage.AUTHORIZATION,
                problem,
                timedOut,
                placed.getOrderUrl(),
                url);
        state.setOrderDecided(true);
        metrics.failed(Stage.AUTHORIZATION, problem.getType());
        context.forward(new Record<>(state.getRequestId(), failed, now));
        commitIfSparse(now);
        return;
      }
    }
    boolean orderReady =
        placed.getOrderStatus() == AcmeStatus.READY || placed.getOrderStatus() == AcmeStatus.VALID;
    boolean allValid =
        placed.getAuthorizationUrls().stream()
            .allMatch(
                u -> evidence.containsKey(u) && evidence.get(u).getDecision() == Decision.VALID);
    if (orderReady || allValid) {
      int contradictions =
          (int)
              placed.getAuthorizationUrls().stream()
                  .filter(u -> evidence.containsKey(u) && evidence.get(u).getChallengeSaidInvalid())
                  .count();
      OrderReady ready =
          OrderReady.newBuilder()
              .setEventId(UUID.randomUUID().toString())
              .setRequestId(state.getRequestId())
              .setOccurredAt(Instant.ofEpochMilli(now))
              .setPlaced(placed)
              .setContradictions(contradictions)
              .build();
      state.setOrderDecided(true);
      metrics.count("orders.ready");
      metrics.stageLatency("ready", placed.getOccurredAt(), ready.getOccurredAt());
      context.forward(new Record<>(state.getRequestId(), ready, now));
      commitIfSparse(now);
    }
  }

  private void expireWaiting(long now) {
    for (String requestId : List.copyOf(waiting)) {
      ReconciliationState state = store.get(requestId);
      if (state == null) {
        waiting.remove(requestId);
        continue;
      }
      Map<String, AuthorizationEvidence> before = state.getAuthorizations();
      Map<String, AuthorizationEvidence> evidence = new HashMap<>(before);
      for (String url : List.copyOf(evidence.keySet())) {
        if (evidence.get(url).getDecision() == Decision.WAITING) {
          decide(requestId, url, evidence, now);
        }
      }
      if (evidence.equals(before)) {
        continue; // still within its grace: nothing to write
      }
      state.setAuthorizations(evidence);
      decideOrder(state, now);
      save(requestId, state, now);
    }
  }

  /**
   * Deletes the states that have not changed for the retention. A request's state is only needed
   * while its observations may still arrive (duplicates, a late answer, a resumed service); a
   * replay is a newer attempt and starts a decision of its own. States written before {@code
   * updatedAt} existed are stamped now and deleted one retention later.
   */
  private void sweep(long now) {
    long cutoff = now - retention.toMillis();
    List<String> expired = new ArrayList<>();
    List<KeyValue<String, ReconciliationState>> stamped = new ArrayList<>();
    try (KeyValueIterator<String, ReconciliationState> all = store.all()) {
      while (all.hasNext()) {
        KeyValue<String, ReconciliationState> kv = all.next();
        Long updatedAt = kv.value.getUpdatedAt();
        if (updatedAt == null) {
          stamped.add(kv);
        } else if (updatedAt < cutoff) {
          expired.add(kv.key);
        }
      }
    }
    stamped.forEach(kv -> save(kv.key, kv.value, now));
    for (String requestId : expired) {
      store.delete(requestId);
      waiting.remove(requestId);
    }
    if (!expired.isEmpty()) {
      metrics.add("reconciliation.states.deleted", expired.size());
      LOGGER.info(
          "reconciliation states deleted after {} without a change: {}", retention, expired.size());
    }
  }
}
