package dev.renewal.cli;

import dev.renewal.events.AcmeStatus;
import dev.renewal.events.AuthorizationObserved;
import dev.renewal.events.AuthorizationReconciled;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.ChallengeObserved;
import dev.renewal.events.ObservationSource;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.OrderReady;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.topics.Decoding;
import dev.renewal.topics.Topic;
import dev.renewal.topics.Topics;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Follows one request through the pipeline's topics and prints each step as it happens, until the
 * certificate is issued or the renewal failed.
 */
final class Progress {
  /** How the request ended. */
  record Outcome(
      Optional<CertificateIssued> issued, Optional<RenewalFailed> failed, int contradictions) {}

  private final Map<String, Object> clientProps;
  private final Topics topics;
  private final PrintWriter out;

  Progress(Map<String, Object> clientProps, Topics topics, PrintWriter out) {
    this.clientProps = clientProps;
    this.topics = topics;
    this.out = out;
  }

  /** The topics a request's steps are on. */
  List<Topic<String, ?>> watched() {
    return List.of(
        topics.renewalRequested,
        topics.orderPlaced,
        topics.challengeObserved,
        topics.authorizationObserved,
        topics.authorizationReconciled,
        topics.orderReady,
        topics.certificateIssued,
        topics.renewalFailed,
        topics.revocationRequested,
        topics.certificateRevoked,
        topics.revocationFailed);
  }

  /** Follows {@code requestId} from the beginning of the topics (a request just published). */
  Outcome follow(String requestId, Duration timeout) {
    return follow(requestId, timeout, false);
  }

  private KafkaConsumer<byte[], byte[]> consumer() {
    Map<String, Object> props = new HashMap<>(clientProps);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> consumer) {
    List<TopicPartition> partitions = new ArrayList<>();
    for (Topic<String, ?> t : watched()) {
      for (PartitionInfo p : consumer.partitionsFor(t.name(), Duration.ofSeconds(10))) {
        partitions.add(new TopicPartition(p.topic(), p.partition()));
      }
    }
    return partitions;
  }

  /** How long a step is held back, so that steps read from several topics print in time order. */
  private static final long HOLD_NANOS = 250_000_000L;

  /**
   * Prints each step of {@code requestId} in the order the events happened, until its certificate
   * is issued or it failed (in its latest attempt), or the timeout passes. With {@code history},
   * the steps already on the log are read first, all of them up to the log's end at the start (one
   * consistent picture, whatever the order the topics are read in), printed sorted, and may be the
   * end already; then the steps that come. Without it, every step is printed as it is read, held
   * back a moment to keep the order across topics (a request just published).
   */
  Outcome follow(String requestId, Duration timeout, boolean history) {
    Map<String, Topic<String, ?>> byName = new HashMap<>();
    watched().forEach(t -> byName.put(t.name(), t));
    long started = System.nanoTime();
    long deadline = started + timeout.toNanos();
    State state = new State();
    List<Map.Entry<Long, org.apache.avro.generic.GenericRecord>> held = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
      List<TopicPartition> partitions = partitions(consumer);
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      if (history) {
        Map<TopicPartition, Long> until = consumer.endOffsets(partitions, Duration.ofSeconds(10));
        List<org.apache.avro.generic.GenericRecord> past = new ArrayList<>();
        while (System.nanoTime() < deadline
            && partitions.stream()
                .anyMatch(tp -> consumer.position(tp, Duration.ofSeconds(10)) < until.get(tp))) {
          for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
            of(requestId, r, byName).ifPresent(past::add);
          }
        }
        past.sort(java.util.Comparator.comparing(Progress::occurredAtOr));
        past.forEach(g -> state.attempt = Math.max(state.attempt, StatusCommand.attemptOf(g)));
        for (var g : past) {
          print(state, g);
        }
        if (state.end.isPresent()) {
          return state.outcome();
        }
      }
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
          of(requestId, r, byName)
              .ifPresent(
                  g -> {
                    held.add(Map.entry(System.nanoTime(), g));
                    state.attempt = Math.max(state.attempt, StatusCommand.attemptOf(g));
                  });
        }
        long now = System.nanoTime();
        held.sort(java.util.Comparator.comparing(e -> occurredAtOr(e.getValue())));
        List<Map.Entry<Long, org.apache.avro.generic.GenericRecord>> ready = new ArrayList<>();
        for (var e : held) {
          if (now - e.getKey() >= HOLD_NANOS) {
            ready.add(e);
          }
        }
        held.removeAll(ready);
        for (var e : ready) {
          print(state, e.getValue());
        }
        if (state.end.isPresent()) {
          return state.outcome();
        }
      }
    }
    return state.outcome();
  }

  /** What was printed so far: since when, the latest attempt, the end if it came. */
  private static final class State {
    java.time.Instant origin;
    int attempt = 1;
    int contradictions;
    Optional<Object> end = Optional.empty();

    Outcome outcome() {
      if (end.isPresent() && end.get() instanceof CertificateIssued issued) {
        return new Outcome(Optional.of(issued), Optional.empty(), contradictions);
      }
      return new Outcome(Optional.empty(), end.map(RenewalFailed.class::cast), contradictions);
    }
  }

  /** {@code r} decoded, when it is a step of {@code requestId}. */
  private static Optional<org.apache.avro.generic.GenericRecord> of(
      String requestId, ConsumerRecord<byte[], byte[]> r, Map<String, Topic<String, ?>> byName) {
    // A record that cannot be decoded is not this request's: skipped, never the end.
    Object value =
        Decoding.decode(r, byName.get(r.topic())).map(ConsumerRecord::value).orElse(null);
    if (value instanceof org.apache.avro.generic.GenericRecord g
        && requestId.equals(requestIdOf(value))) {
      return Optional.of(g);
    }
    return Optional.empty();
  }

  private void print(State state, org.apache.avro.generic.GenericRecord value) {
    java.time.Instant at = occurredAt(value);
    if (state.origin == null) {
      state.origin = at;
    }
    if (value instanceof AuthorizationReconciled rec && rec.getContradiction()) {
      state.contradictions++;
    }
    // Of the latest attempt, a certificate ends it, else its failure (a later step, a
    // revocation, may still be printed in the same batch).
    if (value instanceof CertificateIssued c && c.getAttempt() >= state.attempt) {
      state.end = Optional.of(c);
    } else if (value instanceof RenewalFailed f
        && StatusCommand.attemptOf(f) >= state.attempt
        && !(state.end.isPresent() && state.end.get() instanceof CertificateIssued)) {
      state.end = Optional.of(f);
    }
    out.println(line(state.origin, at, value));
    out.flush();
  }

  /**
   * One step of a timeline, as {@code renewal status} and the demo print it: seconds since the
   * timeline's first event (by the events' own times, so a request followed after the fact reads as
   * it happened), then what happened.
   */
  static String line(java.time.Instant first, java.time.Instant at, Object event) {
    double seconds =
        first == null || at == null ? 0 : Duration.between(first, at).toMillis() / 1000.0;
    return String.format(Locale.ROOT, "  %7.2fs  %s", seconds, describe(event));
  }

  private static java.time.Instant occurredAtOr(Object v) {
    java.time.Instant at = occurredAt(v);
    return at == null ? java.time.Instant.MAX : at;
  }

  private static java.time.Instant occurredAt(Object v) {
    return v instanceof org.apache.avro.generic.GenericRecord g
            && g.hasField("occurredAt")
            && g.get("occurredAt") instanceof java.time.Instant i
        ? i
        : null;
  }

  private static String requestIdOf(Object v) {
    return v instanceof org.apache.avro.generic.GenericRecord g && g.hasField("requestId")
        ? String.valueOf(g.get("requestId"))
        : null;
  }

  static String describe(Object v) {
    if (v instanceof RenewalRequested r) {
      return "requested          "
          + r.getDnsNames()
          + " ("
          + r.getChallengeType()
          + ", CA profile "
          + r.getCaProfile()
          + ")";
    }
    if (v instanceof OrderPlaced o) {
      return "order placed       "
          + o.getOrderUrl()
          + " ("
          + o.getAuthorizationUrls().size()
          + " authorizations)";
    }
    if (v instanceof ChallengeObserved c) {
      String what =
          c.getSource() == ObservationSource.TRIGGER_RESPONSE
              ? "challenge triggered"
              : "challenge observed ";
      String note =
          c.getStatus() == AcmeStatus.INVALID
              ? "  <- the CA says invalid; the authorization will decide"
              : "";
      return what + " " + c.getIdentifier() + ": " + lower(c.getStatus()) + note;
    }
    if (v instanceof AuthorizationObserved a) {
      return "authorization      "
          + (a.getWildcard() ? "*." : "")
          + a.getIdentifier()
          + ": "
          + lower(a.getStatus())
          + (a.getReused() ? " (reused, nothing to solve)" : "");
    }
    if (v instanceof AuthorizationReconciled r) {
      return "reconciled         "
          + r.getIdentifier()
          + ": "
          + r.getDecision()
          + (r.getContradiction() ? " (CONTRADICTION: " + r.getReason() + ")" : "");
    }
    if (v instanceof OrderReady) {
      return "order ready        every authorization valid; finalizing";
    }
    if (v instanceof CertificateIssued c) {
      return "certificate issued serial "
          + c.getSerialNumber()
          + ", valid until "
          + c.getNotAfter();
    }
    if (v instanceof dev.renewal.events.RevocationRequested r) {
      return "revocation asked   serial "
          + r.getSerialNumber()
          + ", reason "
          + RevokeCommand.name(r.getReason())
          + (r.getRequestedBy().isEmpty() ? "" : ", by " + r.getRequestedBy());
    }
    if (v instanceof dev.renewal.events.CertificateRevoked r) {
      return "certificate REVOKED serial "
          + r.getSerialNumber()
          + ", reason "
          + RevokeCommand.name(r.getReason())
          + (r.getAlreadyRevoked() ? " (the CA: revoked already)" : "")
          + (r.getKeyRetired() ? "; its key retired" : "");
    }
    if (v instanceof dev.renewal.events.RevocationFailed f) {
      return "revocation FAILED  serial "
          + f.getSerialNumber()
          + ": "
          + f.getProblem().getType()
          + " "
          + f.getProblem().getDetail();
    }
    if (v instanceof RenewalFailed f) {
      return "renewal FAILED     at "
          + f.getStage()
          + ": "
          + f.getProblem().getType()
          + " "
          + f.getProblem().getDetail();
    }
    return v.toString();
  }

  private static String lower(Object o) {
    return o.toString().toLowerCase(Locale.ROOT);
  }
}
