package dev.renewal.scheduler.topology;

import dev.renewal.events.CertificateCommand;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.CertificateRevoked;
import dev.renewal.events.ManagedCertificate;
import dev.renewal.events.RenewalDue;
import dev.renewal.events.RenewalInfoObserved;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.RevocationRequested;
import dev.renewal.events.SchedulerInput;
import dev.renewal.scheduler.domain.Inventory;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.topics.Topic;
import dev.renewal.topics.Topics;
import java.time.Duration;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;

/**
 * scheduler-service's Streams application: {@code renewal.requested}, {@code certificate.issued},
 * {@code renewal.failed}, {@code certificate.revoked} (keyed by request id), {@code
 * certificate.commands} and {@code certificate.renewal-info} (keyed by name) merged, re-keyed by
 * certificate name through one repartition topic, into the {@link Scheduler}, whose outputs go to
 * {@code certificate.inventory}, {@code certificate.due}, for the renewals it starts, {@code
 * renewal.requested}, and for the certificates they supersede (where the profile says so) {@code
 * certificate.revocation.requested}. The golden file {@code scheduler-topology.txt} (test
 * resources) holds its description: a change of it is a change of the application's internal topics
 * and stores, which a rolling upgrade must handle.
 */
public final class SchedulerTopology {
  /** The inventory's store, keyed by certificate name. */
  public static final String STORE = "inventory-store";

  private SchedulerTopology() {}

  public static Topology build(
      StreamsBuilder builder,
      Topics topics,
      AvroSerdes serdes,
      Inventory.Rules rules,
      Duration punctuateEvery,
      SchedulerMetrics metrics) {
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(STORE),
                Serdes.String(),
                serdes.value(ManagedCertificate.class))
            .withCachingEnabled());

    KStream<String, SchedulerInput> requested =
        byName(
            builder,
            topics.renewalRequested,
            "renewal-requested",
            RenewalRequested::getCertificateName,
            v -> SchedulerInput.newBuilder().setRequested(v).build(),
            "requests",
            "requested-by-name");
    KStream<String, SchedulerInput> issued =
        byName(
            builder,
            topics.certificateIssued,
            "certificate-issued",
            CertificateIssued::getCertificateName,
            v -> SchedulerInput.newBuilder().setIssued(v).build(),
            "issues",
            "issued-by-name");
    KStream<String, SchedulerInput> failed =
        byName(
            builder,
            topics.renewalFailed,
            "renewal-failed",
            v -> v.getRequest() == null ? null : v.getRequest().getCertificateName(),
            v -> SchedulerInput.newBuilder().setFailed(v).build(),
            "failures",
            "failed-by-name");
    KStream<String, SchedulerInput> commands =
        byName(
            builder,
            topics.commands,
            "certificate-commands",
            CertificateCommand::getCertificateName,
            v -> SchedulerInput.newBuilder().setCommand(v).build(),
            "orders",
            "command-by-name");

    KStream<String, SchedulerInput> renewalInfo =
        byName(
            builder,
            topics.renewalInfo,
            "renewal-info",
            RenewalInfoObserved::getCertificateName,
            v -> SchedulerInput.newBuilder().setRenewalInfo(v).build(),
            "renewal-infos",
            "renewal-info-by-name");

    KStream<String, SchedulerInput> revoked =
        byName(
            builder,
            topics.certificateRevoked,
            "certificate-revoked",
            CertificateRevoked::getCertificateName,
            v -> SchedulerInput.newBuilder().setRevoked(v).build(),
            "revocations",
            "revoked-by-name");

    KStream<String, SpecificRecord> out =
        requested
            .merge(issued, Named.as("merge-issued"))
            .merge(failed, Named.as("merge-failed"))
            .merge(commands, Named.as("merge-commands"))
            .merge(renewalInfo, Named.as("merge-renewal-info"))
            .merge(revoked, Named.as("merge-revoked"))
            .repartition(
                Repartitioned.with(Serdes.String(), serdes.value(SchedulerInput.class))
                    .withName("by-name"))
            .process(
                () -> new Scheduler(STORE, punctuateEvery, rules, metrics),
                Named.as("schedule"),
                STORE);

    out.split(Named.as("route-"))
        .branch(
            (k, v) -> v instanceof ManagedCertificate,
            route(topics.inventory, ManagedCertificate.class, "as-inventory", "inventory"))
        .branch(
            (k, v) -> v instanceof RenewalDue, route(topics.due, RenewalDue.class, "as-due", "due"))
        .branch(
            (k, v) -> v instanceof RenewalRequested,
            route(topics.renewalRequested, RenewalRequested.class, "as-request", "request"))
        .branch(
            (k, v) -> v instanceof RevocationRequested,
            route(
                topics.revocationRequested,
                RevocationRequested.class,
                "as-revocation",
                "revocation"));
    return builder.build();
  }

  /**
   * {@code topic}'s records that name a certificate, as inputs keyed by that name (nodes {@code
   * source}, {@code filter}, {@code map}).
   */
  private static <V> KStream<String, SchedulerInput> byName(
      StreamsBuilder builder,
      Topic<String, V> topic,
      String source,
      Function<V, String> nameOf,
      Function<V, SchedulerInput> wrap,
      String filter,
      String map) {
    return builder.stream(topic.name(), topic.consumed().withName(source))
        .filter((k, v) -> v != null && nameOf.apply(v) != null, Named.as(filter))
        .map((k, v) -> KeyValue.pair(nameOf.apply(v), wrap.apply(v)), Named.as(map));
  }

  private static <T extends SpecificRecord> Branched<String, SpecificRecord> route(
      Topic<String, T> topic, Class<T> type, String cast, String name) {
    return Branched.withConsumer(
        s ->
            s.mapValues(type::cast, Named.as(cast))
                .to(
                    topic.name(),
                    Produced.with(topic.keySerde(), topic.valueSerde()).withName("to-" + name)),
        name);
  }
}
