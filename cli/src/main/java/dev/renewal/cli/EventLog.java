package dev.renewal.cli;

import dev.renewal.events.CertificateIssued;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.topics.Topic;
import dev.renewal.topics.TopicReader;
import dev.renewal.topics.Topics;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;

/**
 * The pipeline's events as the log holds them, read from the beginning of every event topic (a full
 * scan: fine for thousands of requests; a materialized view is the next step for millions).
 */
final class EventLog {
  /** One event and where it was read. */
  record Entry(String topic, GenericRecord event, Instant at) {
    String requestId() {
      return String.valueOf(event.get("requestId"));
    }
  }

  private final List<Entry> entries;

  private EventLog(List<Entry> entries) {
    this.entries = entries;
  }

  /**
   * Every event of the pipeline's topics, oldest first; records that cannot be decoded are skipped,
   * and how many is said on {@code err}.
   */
  static EventLog read(Map<String, Object> kafka, Topics topics, PrintWriter err) {
    List<Topic<String, ?>> all =
        List.of(
            topics.renewalRequested,
            topics.orderPlaced,
            topics.challengeObserved,
            topics.authorizationObserved,
            topics.authorizationReconciled,
            topics.certificateIssued,
            topics.renewalFailed,
            topics.revocationRequested,
            topics.certificateRevoked,
            topics.revocationFailed);
    TopicReader reader = new TopicReader(kafka);
    List<Entry> entries = new ArrayList<>();
    // CertificateIssued is announced at least once (docs/design.md, "Delivery semantics"): the
    // same certificate announced again after a lost acknowledgement is one issuance.
    java.util.Set<String> certificates = new java.util.HashSet<>();
    for (var r : reader.readAll(all, Duration.ofSeconds(30))) {
      if (r.value() instanceof CertificateIssued c
          && !certificates.add(
              c.getRequestId() + "/" + c.getAttempt() + "/" + c.getSerialNumber())) {
        continue;
      }
      if (r.value() instanceof GenericRecord g) {
        entries.add(new Entry(r.topic(), g, (Instant) g.get("occurredAt")));
      }
    }
    entries.sort(Comparator.comparing(Entry::at));
    reportSkipped(reader, err);
    return new EventLog(entries);
  }

  /** Says on {@code err} how many records {@code reader} could not decode, if any. */
  static void reportSkipped(TopicReader reader, PrintWriter err) {
    reader
        .skippedSummary()
        .ifPresent(
            s -> {
              err.println(
                  "renewal: "
                      + s
                      + " (not written by this pipeline; the services dead-letter them:"
                      + " renewal dlq list)");
              err.flush();
            });
  }

  List<Entry> all() {
    return entries;
  }

  List<Entry> of(String requestId) {
    return entries.stream().filter(e -> e.requestId().equals(requestId)).toList();
  }

  <T> List<T> ofType(Class<T> type) {
    return entries.stream().map(Entry::event).filter(type::isInstance).map(type::cast).toList();
  }

  List<RenewalFailed> failures() {
    return ofType(RenewalFailed.class);
  }

  List<CertificateIssued> issued() {
    return ofType(CertificateIssued.class);
  }

  List<RenewalRequested> requests() {
    return ofType(RenewalRequested.class);
  }
}
