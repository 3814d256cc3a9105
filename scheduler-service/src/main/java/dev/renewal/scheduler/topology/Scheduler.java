package dev.renewal.scheduler.topology;

import dev.renewal.events.CommandAction;
import dev.renewal.events.CurrentCertificate;
import dev.renewal.events.DueReason;
import dev.renewal.events.ManagedCertificate;
import dev.renewal.events.RenewalAttempt;
import dev.renewal.events.RenewalDue;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.RevocationReason;
import dev.renewal.events.RevocationRequested;
import dev.renewal.events.SchedulerInput;
import dev.renewal.scheduler.domain.Inventory;
import dev.renewal.scheduler.domain.Retries;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
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
 * The inventory and the schedule, per certificate name (the key). Folds every fact into the
 * certificate's {@link ManagedCertificate} ({@link Inventory}), kept in a store with a changelog,
 * and forwards each new state (to {@code certificate.inventory}). A wall-clock punctuator renews
 * the certificates whose time came: it visits only those due by now, from an index by due time kept
 * in memory beside the store and rebuilt from it when the task starts. For each it records the
 * renewal in the store and forwards {@code RenewalDue} and, when the pipeline holds the key, the
 * {@code RenewalRequested}; under exactly-once the three writes and the store's commit together, so
 * a renewal is decided once across restarts and rebalances. {@code RENEW} commands decide one at
 * once (reason MANUAL).
 */
final class Scheduler implements Processor<String, SchedulerInput, String, SpecificRecord> {
  private static final Logger LOGGER = LoggerFactory.getLogger(Scheduler.class);

  private final String storeName;
  private final Duration punctuateEvery;
  private final Inventory.Rules rules;
  private final SchedulerMetrics metrics;

  /** (due time, name) of every certificate with a next renewal. */
  private final TreeSet<Map.Entry<Long, String>> index =
      new TreeSet<>(
          Map.Entry.<Long, String>comparingByKey().thenComparing(Map.Entry.comparingByValue()));

  private final Map<String, Long> dueOf = new HashMap<>();

  /** Every name of this task, for its gauges. */
  private final java.util.Set<String> names = new java.util.HashSet<>();

  private ProcessorContext<String, SpecificRecord> context;
  private KeyValueStore<String, ManagedCertificate> store;

  Scheduler(
      String storeName, Duration punctuateEvery, Inventory.Rules rules, SchedulerMetrics metrics) {
    this.storeName = storeName;
    this.punctuateEvery = punctuateEvery;
    this.rules = rules;
    this.metrics = metrics;
  }

  @Override
  public void init(ProcessorContext<String, SpecificRecord> context) {
    this.context = context;
    this.store = context.getStateStore(storeName);
    try (KeyValueIterator<String, ManagedCertificate> all = store.all()) {
      while (all.hasNext()) {
        KeyValue<String, ManagedCertificate> kv = all.next();
        index(kv.key, kv.value);
        names.add(kv.key);
        metrics.certificate(kv.key, kv.value);
      }
    }
    context.schedule(punctuateEvery, PunctuationType.WALL_CLOCK_TIME, this::renewDue);
  }

  private void index(String name, ManagedCertificate s) {
    int size = dueOf.size();
    Long before = dueOf.remove(name);
    if (before != null) {
      index.remove(Map.entry(before, name));
    }
    if (s != null && s.getNextRenewalAt() != null) {
      long at = s.getNextRenewalAt().toEpochMilli();
      dueOf.put(name, at);
      index.add(Map.entry(at, name));
    }
    metrics.scheduled(dueOf.size() - size);
  }

  @Override
  public void close() {
    // The task moves or stops: its certificates are scheduled, and shown, by their next owner.
    metrics.scheduled(-dueOf.size());
    names.forEach(n -> metrics.certificate(n, null));
  }

  private void save(String name, ManagedCertificate s, long now) {
    store.put(name, s);
    index(name, s);
    names.add(name);
    metrics.certificate(name, s);
    context.forward(new Record<>(name, s, now));
  }

  @Override
  public void process(Record<String, SchedulerInput> record) {
    String name = record.key();
    SchedulerInput in = record.value();
    if (name == null || in == null) {
      return;
    }
    long nowMs = context.currentSystemTimeMs();
    Instant now = Instant.ofEpochMilli(nowMs);
    ManagedCertificate state = store.get(name);
    Optional<ManagedCertificate> next;
    if (in.getRequested() != null) {
      next = Inventory.requested(state, in.getRequested(), now, rules);
    } else if (in.getIssued() != null) {
      next = Inventory.issued(state, in.getIssued(), now, rules);
      next.ifPresent(n -> revokeSuperseded(name, state, n, nowMs));
    } else if (in.getFailed() != null) {
      next = Inventory.failed(state, in.getFailed(), now, rules);
    } else if (in.getCommand() != null && in.getCommand().getAction() == CommandAction.UNMANAGE) {
      next = Inventory.unmanaged(state, in.getCommand(), now, rules);
      if (state == null) {
        LOGGER.warn("unmanage of a name not in the inventory yet: name={}", name);
      }
    } else if (in.getRevoked() != null) {
      next = Inventory.revoked(state, in.getRevoked(), now, rules);
    } else if (in.getRenewalInfo() != null) {
      next = Inventory.renewalInfo(state, in.getRenewalInfo(), now, rules);
    } else if (in.getCommand() != null && in.getCommand().getAction() == CommandAction.RENEW) {
      manual(name, state, nowMs);
      return;
    } else {
      return;
    }
    if (next.isPresent() && changed(state, next.get())) {
      save(name, next.get(), nowMs);
      if (in.getRevoked() != null) {
        metrics.revoked(in.getRevoked().getReason());
      }
    }
  }

  /**
   * The certificate {@code before} held was superseded by a renewal's ({@code after}'s current):
   * with {@code ca.<its profile>.revoke.superseded}, its revocation (reason SUPERSEDED) is asked
   * for, in the same transaction as the new state, so once.
   */
  private void revokeSuperseded(
      String name, ManagedCertificate before, ManagedCertificate after, long nowMs) {
    CurrentCertificate old = before == null ? null : before.getCurrent();
    CurrentCertificate now = after.getCurrent();
    if (old == null
        || now == null
        || old.getSerialNumber().equals(now.getSerialNumber())
        || Inventory.currentRevocation(before).isPresent()) {
      return;
    }
    String profile =
        old.getCaProfile() != null
            ? old.getCaProfile()
            : after.getRequest() == null ? null : after.getRequest().getCaProfile();
    if (profile == null || !rules.policy(profile).revokeSuperseded()) {
      return;
    }
    RevocationRequested revoke =
        RevocationRequested.newBuilder()
            .setEventId(UUID.randomUUID().toString())
            .setOccurredAt(Instant.ofEpochMilli(nowMs))
            .setRequestId(old.getRequestId())
            .setCertificateName(name)
            .setSerialNumber(old.getSerialNumber())
            .setReason(RevocationReason.SUPERSEDED)
            .setRequestedBy("scheduler-service")
            .build();
    context.forward(new Record<>(old.getRequestId(), revoke, nowMs));
    LOGGER.info(
        "revocation of a superseded certificate asked: name={} serial={} by serial={} profile={}",
        name,
        old.getSerialNumber(),
        now.getSerialNumber(),
        profile);
  }

  /** A duplicate or an older fact changes nothing but the time of the fold: not worth a record. */
  private static boolean changed(ManagedCertificate before, ManagedCertificate after) {
    if (before == null) {
      return true;
    }
    // Lists as ArrayLists: Avro's own array (what a store's deserializer and a builder's deep copy
    // make) compares its elements without the logical-type conversions and fails on an Instant.
    ManagedCertificate a = ManagedCertificate.newBuilder(after).setUpdatedAt(Instant.EPOCH).build();
    ManagedCertificate b =
        ManagedCertificate.newBuilder(before).setUpdatedAt(Instant.EPOCH).build();
    a.setAttempts(new ArrayList<>(a.getAttempts()));
    b.setAttempts(new ArrayList<>(b.getAttempts()));
    return !a.equals(b);
  }

  /** {@code renewal renew NAME}: renewed now, unless unknown, unmanaged or being renewed. */
  private void manual(String name, ManagedCertificate state, long nowMs) {
    if (state == null || !state.getManaged() || state.getRequest() == null) {
      LOGGER.warn("renew of a name not managed, ignored: name={}", name);
      return;
    }
    if (Inventory.renewing(state)) {
      LOGGER.info("renew of a certificate being renewed, ignored: name={}", name);
      return;
    }
    renew(name, state, DueReason.MANUAL, Instant.ofEpochMilli(nowMs), nowMs);
  }

  /** The punctuator: every certificate whose next renewal is due by {@code nowMs}. */
  private void renewDue(long nowMs) {
    List<String> due = new ArrayList<>();
    for (Map.Entry<Long, String> e : index.headSet(Map.entry(nowMs, "\uffff"), true)) {
      due.add(e.getValue());
    }
    for (String name : due) {
      ManagedCertificate s = store.get(name);
      if (s == null
          || s.getNextRenewalAt() == null
          || s.getNextRenewalAt().toEpochMilli() > nowMs) {
        index(name, s);
        continue;
      }
      renew(name, s, s.getNextRenewalReason(), s.getNextRenewalAt(), nowMs);
    }
  }

  private void renew(String name, ManagedCertificate s, DueReason reason, Instant dueAt, long now) {
    Instant at = Instant.ofEpochMilli(now);
    boolean retry = reason == DueReason.RETRY || reason == DueReason.FALLBACK;
    String fallbackFrom = null;
    RenewalRequested next;
    if (retry) {
      // A new attempt of the failed request, whoever holds its key (a CSR request carries it).
      RenewalAttempt failed = s.getAttempts().get(s.getAttempts().size() - 1);
      String profile =
          s.getNextRenewalProfile() != null
              ? s.getNextRenewalProfile()
              : s.getRequest().getCaProfile();
      if (reason == DueReason.FALLBACK) {
        fallbackFrom = Retries.profileOf(failed, s.getRequest().getCaProfile());
      }
      next = Inventory.retryRequest(s, profile, UUID.randomUUID().toString(), at);
    } else {
      next =
          Inventory.holdsKey(s)
              ? Inventory.nextRequest(
                  s, UUID.randomUUID().toString(), UUID.randomUUID().toString(), at)
              : null;
    }
    RenewalDue due =
        RenewalDue.newBuilder()
            .setEventId(UUID.randomUUID().toString())
            .setOccurredAt(at)
            .setCertificateName(name)
            .setReason(reason == DueReason.UNKNOWN ? DueReason.LIFETIME : reason)
            .setDueAt(dueAt)
            .setReplacesSerial(s.getCurrent() == null ? null : s.getCurrent().getSerialNumber())
            .setNotAfter(s.getCurrent() == null ? null : s.getCurrent().getNotAfter())
            .setRenewalRequestId(next == null ? null : next.getRequestId())
            .setCsr(!Inventory.holdsKey(s))
            .setCaProfile(next != null ? next.getCaProfile() : s.getRequest().getCaProfile())
            .setAttempt(next != null ? next.getAttempt() : 1)
            .setReplayOf(next != null ? next.getReplayOf() : null)
            .setFallbackFrom(fallbackFrom)
            .setExplanationUrl(
                (reason == DueReason.ARI_WINDOW || reason == DueReason.ARI_WINDOW_PASSED)
                        && s.getRenewalInfo() != null
                    ? s.getRenewalInfo().getExplanationUrl()
                    : null)
            .build();
    save(name, Inventory.renewal(s, due, next, at, rules), now);
    context.forward(new Record<>(name, due, now));
    if (next != null) {
      context.forward(new Record<>(next.getRequestId(), next, now));
    }
    metrics.due(due.getReason());
    LOGGER.info(
        "renewal due: name={} reason={} dueAt={} profile={} attempt={} fallbackFrom={} replaces={}"
            + " explanation={} request={}",
        name,
        due.getReason(),
        dueAt,
        due.getCaProfile(),
        due.getAttempt(),
        due.getFallbackFrom(),
        due.getReplacesSerial(),
        due.getExplanationUrl(),
        due.getRenewalRequestId() == null
            ? "(CSR: its key holder requests)"
            : due.getRenewalRequestId());
  }
}
