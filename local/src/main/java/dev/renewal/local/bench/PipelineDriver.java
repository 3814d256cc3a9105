package dev.renewal.local.bench;

import dev.renewal.events.AcmeStatus;
import dev.renewal.events.AuthorizationObserved;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.OrderReady;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.TopicReader;
import dev.renewal.topics.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Drives the running pipeline from outside, as a user would: publishes RenewalRequested records and
 * watches certificate.issued and renewal.failed for their outcomes. Latencies come from the events'
 * own {@code occurredAt} times (one JVM, one clock).
 */
public final class PipelineDriver implements AutoCloseable {
  /** What became of one request. */
  public record Outcome(RenewalRequested request, CertificateIssued issued, RenewalFailed failed) {
    public Duration latency() {
      Instant end = issued != null ? issued.getOccurredAt() : failed.getOccurredAt();
      return Duration.between(request.getOccurredAt(), end);
    }
  }

  private final Map<String, Object> kafka;
  private final Topics topics;
  private final String profile;
  private final Publisher publisher;
  private final KafkaConsumer<byte[], byte[]> outcomes;
  private final Duration stalled;

  /**
   * With {@code stalled}: no outcome for this long while requests are outstanding ends a wait (the
   * CA stopped answering).
   */
  public PipelineDriver(
      Map<String, Object> kafka, Topics topics, String profile, Duration stalled) {
    this.stalled = stalled;
    this.kafka = Map.copyOf(kafka);
    this.topics = topics;
    this.profile = profile;
    this.publisher = Publisher.create(kafka, "renewal-bench");
    Map<String, Object> props = new HashMap<>(kafka);
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    this.outcomes =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    List<TopicPartition> partitions = new ArrayList<>();
    for (String t : List.of(topics.certificateIssued.name(), topics.renewalFailed.name())) {
      for (PartitionInfo p : outcomes.partitionsFor(t, Duration.ofSeconds(30))) {
        partitions.add(new TopicPartition(t, p.partition()));
      }
    }
    outcomes.assign(partitions);
    outcomes.seekToEnd(partitions);
    partitions.forEach(outcomes::position);
  }

  /** A one-name HTTP-01 request for {@code name}, stamped now. */
  public RenewalRequested request(String certificateName, String name) {
    return RenewalRequested.newBuilder()
        .setEventId(UUID.randomUUID().toString())
        .setRequestId(UUID.randomUUID().toString())
        .setOccurredAt(Instant.now())
        .setCertificateName(certificateName)
        .setDnsNames(List.of(name))
        .setChallengeType(ChallengeType.HTTP_01)
        .setCaProfile(profile)
        .build();
  }

  /** Publishes one request per name at once; waits for every outcome (or the timeout). */
  public Map<String, Outcome> atOnce(String prefix, List<String> names, Duration timeout) {
    Map<String, RenewalRequested> sent = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      RenewalRequested r = request(prefix + "-" + i, names.get(i));
      sent.put(r.getRequestId(), r);
      publisher.send(topics.renewalRequested, r.getRequestId(), r);
    }
    publisher.flush();
    return await(sent, timeout);
  }

  /** Publishes one request at a time, each after the previous one's outcome. */
  public Map<String, Outcome> oneAtATime(String prefix, List<String> names, Duration timeoutEach) {
    Map<String, Outcome> all = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      RenewalRequested r = request(prefix + "-" + i, names.get(i));
      publisher.send(topics.renewalRequested, r.getRequestId(), r);
      publisher.flush();
      Map<String, Outcome> outcome = await(Map.of(r.getRequestId(), r), timeoutEach);
      if (outcome.isEmpty()) {
        break; // the CA stopped answering: the caller sees the missing outcomes
      }
      all.putAll(outcome);
    }
    return all;
  }

  private Map<String, Outcome> await(Map<String, RenewalRequested> sent, Duration timeout) {
    Map<String, Outcome> done = new LinkedHashMap<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    long lastOutcome = System.nanoTime();
    while (done.size() < sent.size() && System.nanoTime() < deadline) {
      if (System.nanoTime() - lastOutcome > stalled.toNanos()) {
        // Nothing finished for a long while: the CA stopped answering (the caller says so).
        break;
      }
      int before = done.size();
      for (ConsumerRecord<byte[], byte[]> r : outcomes.poll(Duration.ofMillis(50))) {
        if (r.value() == null) {
          continue;
        }
        if (r.topic().equals(topics.certificateIssued.name())) {
          CertificateIssued c =
              topics
                  .certificateIssued
                  .valueSerde()
                  .deserializer()
                  .deserialize(r.topic(), r.value());
          RenewalRequested req = sent.get(c.getRequestId());
          if (req != null) {
            done.putIfAbsent(c.getRequestId(), new Outcome(req, c, null));
          }
        } else {
          RenewalFailed f =
              topics.renewalFailed.valueSerde().deserializer().deserialize(r.topic(), r.value());
          RenewalRequested req = sent.get(f.getRequestId());
          if (req != null) {
            done.putIfAbsent(f.getRequestId(), new Outcome(req, null, f));
          }
        }
      }
      if (done.size() > before) {
        lastOutcome = System.nanoTime();
      }
    }
    return done;
  }

  /** How long each stage took for {@code outcomes}' issued requests, from the events. */
  public Map<String, Percentiles> stages(Map<String, Outcome> outcomes) {
    Set<String> ids = outcomes.keySet();
    TopicReader reader = new TopicReader(kafka);
    Map<String, Instant> placed = new HashMap<>();
    for (var r : reader.readAll(topics.orderPlaced, Duration.ofSeconds(60))) {
      OrderPlaced p = r.value();
      if (p != null && ids.contains(p.getRequestId())) {
        placed.merge(p.getRequestId(), p.getOccurredAt(), (a, b) -> a.isBefore(b) ? a : b);
      }
    }
    Map<String, Instant> valid = new HashMap<>();
    for (var r : reader.readAll(topics.authorizationObserved, Duration.ofSeconds(60))) {
      AuthorizationObserved a = r.value();
      if (a != null && a.getStatus() == AcmeStatus.VALID && ids.contains(a.getRequestId())) {
        valid.merge(a.getRequestId(), a.getOccurredAt(), (x, y) -> x.isAfter(y) ? x : y);
      }
    }
    Map<String, Instant> ready = new HashMap<>();
    for (var r : reader.readAll(topics.orderReady, Duration.ofSeconds(60))) {
      OrderReady o = r.value();
      if (o != null && ids.contains(o.getRequestId())) {
        ready.merge(o.getRequestId(), o.getOccurredAt(), (a, b) -> a.isBefore(b) ? a : b);
      }
    }
    List<Duration> toPlaced = new ArrayList<>();
    List<Duration> toValid = new ArrayList<>();
    List<Duration> toReady = new ArrayList<>();
    List<Duration> toIssued = new ArrayList<>();
    for (Outcome o : outcomes.values()) {
      String id = o.request().getRequestId();
      if (o.issued() == null
          || !placed.containsKey(id)
          || !valid.containsKey(id)
          || !ready.containsKey(id)) {
        continue;
      }
      toPlaced.add(Duration.between(o.request().getOccurredAt(), placed.get(id)));
      toValid.add(Duration.between(placed.get(id), valid.get(id)));
      toReady.add(Duration.between(valid.get(id), ready.get(id)));
      toIssued.add(Duration.between(ready.get(id), o.issued().getOccurredAt()));
    }
    Map<String, Percentiles> out = new LinkedHashMap<>();
    out.put("request -> order placed", new Percentiles(toPlaced));
    out.put("order placed -> authorization valid", new Percentiles(toValid));
    out.put("authorization valid -> order ready (reconciled)", new Percentiles(toReady));
    out.put("order ready -> issued (finalize, download)", new Percentiles(toIssued));
    return out;
  }

  @Override
  public void close() {
    outcomes.close();
    publisher.close();
  }
}
