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

  Outcome follow(String requestId, Duration timeout) {
    List<Topic<String, ?>> watched =
        List.of(
            topics.renewalRequested,
            topics.orderPlaced,
            topics.challengeObserved,
            topics.authorizationObserved,
            topics.authorizationReconciled,
            topics.orderReady,
            topics.certificateIssued,
            topics.renewalFailed);
    Map<String, Topic<String, ?>> byName = new HashMap<>();
    watched.forEach(t -> byName.put(t.name(), t));
    Map<String, Object> props = new HashMap<>(clientProps);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    long started = System.nanoTime();
    java.time.Instant first = null;
    int contradictions = 0;
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (Topic<String, ?> t : watched) {
        for (PartitionInfo p : consumer.partitionsFor(t.name(), Duration.ofSeconds(10))) {
          partitions.add(new TopicPartition(p.topic(), p.partition()));
        }
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = started + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
          // A record that cannot be decoded is not this request's: skipped, never the end.
          Object value =
              Decoding.decode(r, byName.get(r.topic())).map(ConsumerRecord::value).orElse(null);
          if (value == null || !requestId.equals(requestIdOf(value))) {
            continue;
          }
          // Seconds since the request by the events' own times, so that a request followed
          // after the fact reads as it happened.
          java.time.Instant at = occurredAt(value);
          if (first == null && at != null) {
            first = at;
          }
          String elapsed =
              at == null || first == null
                  ? String.format(Locale.ROOT, "%6.2fs", (System.nanoTime() - started) / 1e9)
                  : String.format(
                      Locale.ROOT, "%6.2fs", Duration.between(first, at).toMillis() / 1000.0);
          if (value instanceof AuthorizationReconciled rec && rec.getContradiction()) {
            contradictions++;
          }
          out.println("  " + elapsed + "  " + describe(value));
          out.flush();
          if (value instanceof CertificateIssued issued) {
            return new Outcome(Optional.of(issued), Optional.empty(), contradictions);
          }
          if (value instanceof RenewalFailed failed) {
            return new Outcome(Optional.empty(), Optional.of(failed), contradictions);
          }
        }
      }
    }
    return new Outcome(Optional.empty(), Optional.empty(), contradictions);
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
