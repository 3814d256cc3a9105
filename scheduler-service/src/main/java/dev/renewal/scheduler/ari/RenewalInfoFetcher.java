package dev.renewal.scheduler.ari;

import dev.renewal.acme.AcmeFailure;
import dev.renewal.acme.CaCallFailure;
import dev.renewal.acme.CaCalls;
import dev.renewal.acme.CaProfile;
import dev.renewal.acme.CaProfiles;
import dev.renewal.events.CurrentCertificate;
import dev.renewal.events.ManagedCertificate;
import dev.renewal.events.Problem;
import dev.renewal.events.RenewalInfoObserved;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.scheduler.domain.RenewalWindows;
import dev.renewal.topics.Decoding;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.Topics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches the renewal information (RFC 9773) of every managed certificate whose CA advertises it,
 * and publishes each answer as a {@link RenewalInfoObserved} on {@code certificate.renewal-info},
 * which the scheduler folds into the inventory. Never on a stream thread: its own consumer reads
 * {@code certificate.inventory} (from the beginning of the partitions it is assigned: the compacted
 * topic is the list of certificates; its group shares them between instances), and each fetch is a
 * CA call of the certificate's profile ({@link CaCalls}: its pacer, its retries of 429 and 5xx).
 *
 * <p>A certificate is fetched when the inventory's latest answer for it says ({@code nextFetchAt}),
 * at once when there is none for its current certificate; the profile that issued it is asked. A
 * profile whose directory has no {@code renewalInfo} is asked again every six hours. A fetch that
 * fails is an observation too (its problem, no window): the lifetime rule stands, and the next
 * fetch follows the same clamp.
 */
public final class RenewalInfoFetcher implements AutoCloseable {
  private static final Logger LOGGER = LoggerFactory.getLogger(RenewalInfoFetcher.class);
  static final Duration NO_ARI_RECHECK = Duration.ofHours(6);

  private final Topics topics;
  private final CaProfiles profiles;
  private final CaCalls ca;
  private final AriGateway gateway;
  private final Publisher publisher;
  private final Clock clock;
  private final ServiceMetrics metrics;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Thread thread;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean running = true;

  /** The certificates of the partitions this instance owns, by name, and their partitions. */
  private final Map<String, ManagedCertificate> certificates = new HashMap<>();

  private final Map<String, Integer> partitionOf = new HashMap<>();

  /** What this instance fetched since the inventory last said: (certificate id, next fetch). */
  private final Map<String, Map.Entry<String, Instant>> fetched = new ConcurrentHashMap<>();

  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  private final Map<String, Instant> noAriUntil = new ConcurrentHashMap<>();

  /**
   * (next fetch, name) of each certificate to fetch, so that a pass visits only those due (consumer
   * thread only); a certificate in flight is out of it until its fetch ends.
   */
  private final TreeSet<Map.Entry<Long, String>> due =
      new TreeSet<>(
          Map.Entry.<Long, String>comparingByKey().thenComparing(Map.Entry.comparingByValue()));

  private final Map<String, Long> dueOf = new HashMap<>();

  /** Certificates whose fetch ended (on a CA worker): indexed again by the consumer thread. */
  private final Queue<String> ended = new ConcurrentLinkedQueue<>();

  public RenewalInfoFetcher(
      Map<String, Object> clientProps,
      String groupId,
      Topics topics,
      CaProfiles profiles,
      CaCalls ca,
      AriGateway gateway,
      Publisher publisher,
      Clock clock,
      ServiceMetrics metrics) {
    this.topics = topics;
    this.profiles = profiles;
    this.ca = ca;
    this.gateway = gateway;
    this.publisher = publisher;
    this.clock = clock;
    this.metrics = metrics;
    Map<String, Object> props = new HashMap<>(clientProps);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, groupId);
    this.consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.thread = new Thread(this::run, "scheduler-renewal-info");
    this.thread.setDaemon(true);
  }

  public RenewalInfoFetcher start() {
    thread.start();
    return this;
  }

  private void run() {
    try {
      consumer.subscribe(List.of(topics.inventory.name()), new Rebalance());
      while (running) {
        Instant now = clock.instant();
        for (ConsumerRecord<byte[], byte[]> raw : consumer.poll(Duration.ofMillis(500))) {
          Optional<ConsumerRecord<String, ManagedCertificate>> r =
              Decoding.decode(raw, topics.inventory);
          if (r.isEmpty() || r.get().key() == null) {
            // Only the scheduler writes the inventory; a foreign record is skipped, and said.
            LOGGER.warn(
                "undecodable inventory record skipped: partition={} offset={}",
                raw.partition(),
                raw.offset());
            continue;
          }
          String name = r.get().key();
          if (r.get().value() == null) {
            certificates.remove(name);
            partitionOf.remove(name);
          } else {
            certificates.put(name, r.get().value());
            partitionOf.put(name, raw.partition());
          }
          index(name, now);
        }
        for (String name = ended.poll(); name != null; name = ended.poll()) {
          index(name, now);
        }
        fetchDue(clock.instant());
      }
    } catch (WakeupException e) {
      // close() was called
    } catch (RuntimeException e) {
      LOGGER.error("renewal information fetcher stopped on an unexpected error", e);
    } finally {
      consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
      stopped.countDown();
    }
  }

  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      Set<Integer> gone =
          partitions.stream()
              .map(TopicPartition::partition)
              .collect(java.util.stream.Collectors.toSet());
      partitionOf
          .entrySet()
          .removeIf(
              e -> {
                if (gone.contains(e.getValue())) {
                  certificates.remove(e.getKey());
                  unindex(e.getKey());
                  return true;
                }
                return false;
              });
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      // The compacted inventory is the list of certificates: read all of it, never commit.
      consumer.seekToBeginning(partitions);
    }
  }

  /** When certificate {@code s} is to be fetched, and from which profile; empty: never. */
  static Optional<Map.Entry<CaProfile, Instant>> schedule(
      ManagedCertificate s,
      CaProfiles profiles,
      Map.Entry<String, Instant> fetchedHere,
      Instant now) {
    CurrentCertificate current = s.getCurrent();
    if (!s.getManaged() || current == null || current.getAriCertId() == null) {
      return Optional.empty();
    }
    String profileName =
        current.getCaProfile() != null
            ? current.getCaProfile()
            : s.getRequest() == null ? null : s.getRequest().getCaProfile();
    Optional<CaProfile> profile =
        profileName == null ? Optional.empty() : profiles.get(profileName);
    if (profile.isEmpty()) {
      return Optional.empty();
    }
    String id = current.getAriCertId();
    Instant at = now;
    RenewalInfoObserved known = s.getRenewalInfo();
    if (known != null && id.equals(known.getAriCertId())) {
      at = known.getNextFetchAt();
    }
    if (fetchedHere != null
        && fetchedHere.getKey().equals(id)
        && fetchedHere.getValue().isAfter(at)) {
      at = fetchedHere.getValue();
    }
    return Optional.of(Map.entry(profile.get(), at));
  }

  /**
   * Puts {@code name} in the index at its next fetch (out of it: nothing to fetch, or in flight).
   */
  private void index(String name, Instant now) {
    unindex(name);
    ManagedCertificate s = certificates.get(name);
    if (s == null || inFlight.contains(name)) {
      return;
    }
    schedule(s, profiles, fetched.get(name), now)
        .ifPresent(
            when -> {
              long at = when.getValue().toEpochMilli();
              dueOf.put(name, at);
              due.add(Map.entry(at, name));
            });
  }

  private void unindex(String name) {
    Long at = dueOf.remove(name);
    if (at != null) {
      due.remove(Map.entry(at, name));
    }
  }

  /** Fetches the certificates whose time came; a profile without ARI waits for its recheck. */
  private void fetchDue(Instant now) {
    while (!due.isEmpty() && due.first().getKey() <= now.toEpochMilli()) {
      String name = due.first().getValue();
      unindex(name);
      ManagedCertificate s = certificates.get(name);
      Optional<Map.Entry<CaProfile, Instant>> when =
          s == null ? Optional.empty() : schedule(s, profiles, fetched.get(name), now);
      if (when.isEmpty()) {
        continue;
      }
      CaProfile profile = when.get().getKey();
      Instant noAri = noAriUntil.get(profile.name());
      if (noAri != null && noAri.isAfter(now)) {
        dueOf.put(name, noAri.toEpochMilli());
        due.add(Map.entry(noAri.toEpochMilli(), name));
        continue;
      }
      fetch(name, s.getCurrent(), profile);
    }
  }

  private void fetch(String name, CurrentCertificate current, CaProfile profile) {
    inFlight.add(name);
    String id = current.getAriCertId();
    ca.call(profile, () -> gateway.fetch(profile, id))
        .handle(
            (answer, error) -> {
              Instant at = clock.instant();
              if (error == null && answer.isEmpty()) {
                noAriUntil.put(profile.name(), at.plus(NO_ARI_RECHECK));
                LOGGER.info(
                    "no renewal information at this CA (its directory has no renewalInfo):"
                        + " profile={}",
                    profile.name());
                return null;
              }
              RenewalInfoObserved.Builder b =
                  RenewalInfoObserved.newBuilder()
                      .setEventId(UUID.randomUUID().toString())
                      .setOccurredAt(at)
                      .setCertificateName(name)
                      .setCaProfile(profile.name())
                      .setSerialNumber(current.getSerialNumber())
                      .setAriCertId(id);
              if (error == null) {
                AriGateway.Answer a = answer.get();
                b.setWindowStart(a.windowStart())
                    .setWindowEnd(a.windowEnd())
                    .setExplanationUrl(a.explanationUrl())
                    .setRetryAfter(a.retryAfter().orElse(null))
                    .setNextFetchAt(RenewalWindows.nextFetch(at, a.retryAfter()));
                metrics.count("ari.fetches", "outcome", "window");
              } else {
                AcmeFailure failure = CaCallFailure.of(error).failure();
                Problem problem = failure.problem();
                b.setProblem(problem)
                    .setRetryAfter(failure.retryAfter().orElse(null))
                    .setNextFetchAt(RenewalWindows.nextFetch(at, failure.retryAfter()));
                metrics.count("ari.fetches", "outcome", "failed");
              }
              RenewalInfoObserved observed = b.build();
              fetched.put(name, Map.entry(id, observed.getNextFetchAt()));
              LOGGER.info(
                  "renewal information: name={} serial={} window={}..{} explanation={}"
                      + " nextFetch={} problem={}",
                  name,
                  current.getSerialNumber(),
                  observed.getWindowStart(),
                  observed.getWindowEnd(),
                  observed.getExplanationUrl(),
                  observed.getNextFetchAt(),
                  observed.getProblem() == null ? null : observed.getProblem().getType());
              return publisher.send(topics.renewalInfo, name, observed);
            })
        .whenComplete(
            (v, e) -> {
              inFlight.remove(name);
              ended.add(name);
            });
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
