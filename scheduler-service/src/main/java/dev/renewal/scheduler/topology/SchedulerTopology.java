package dev.renewal.scheduler.topology;

import dev.renewal.events.ManagedCertificate;
import dev.renewal.events.RenewalDue;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.SchedulerInput;
import dev.renewal.scheduler.domain.Inventory;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.topics.Topic;
import dev.renewal.topics.Topics;
import java.time.Duration;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serdes;
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
 * {@code renewal.failed} (keyed by request id) and {@code certificate.commands} (keyed by name)
 * merged, re-keyed by certificate name through one repartition topic, into the {@link Scheduler},
 * whose outputs go to {@code certificate.inventory}, {@code certificate.due} and, for the renewals
 * it starts, {@code renewal.requested}. The golden file {@code scheduler-topology.txt} (test
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
        builder.stream(
                topics.renewalRequested.name(),
                topics.renewalRequested.consumed().withName("renewal-requested"))
            .filter((k, v) -> v != null && v.getCertificateName() != null, Named.as("requests"))
            .map(
                (k, v) ->
                    org.apache.kafka.streams.KeyValue.pair(
                        v.getCertificateName(),
                        SchedulerInput.newBuilder().setRequested(v).build()),
                Named.as("requested-by-name"));
    KStream<String, SchedulerInput> issued =
        builder.stream(
                topics.certificateIssued.name(),
                topics.certificateIssued.consumed().withName("certificate-issued"))
            .filter((k, v) -> v != null && v.getCertificateName() != null, Named.as("issues"))
            .map(
                (k, v) ->
                    org.apache.kafka.streams.KeyValue.pair(
                        v.getCertificateName(), SchedulerInput.newBuilder().setIssued(v).build()),
                Named.as("issued-by-name"));
    KStream<String, SchedulerInput> failed =
        builder.stream(
                topics.renewalFailed.name(),
                topics.renewalFailed.consumed().withName("renewal-failed"))
            .filter((k, v) -> v != null && v.getRequest() != null, Named.as("failures"))
            .map(
                (k, v) ->
                    org.apache.kafka.streams.KeyValue.pair(
                        v.getRequest().getCertificateName(),
                        SchedulerInput.newBuilder().setFailed(v).build()),
                Named.as("failed-by-name"));
    KStream<String, SchedulerInput> commands =
        builder.stream(
                topics.commands.name(), topics.commands.consumed().withName("certificate-commands"))
            .filter((k, v) -> v != null && v.getCertificateName() != null, Named.as("orders"))
            .map(
                (k, v) ->
                    org.apache.kafka.streams.KeyValue.pair(
                        v.getCertificateName(), SchedulerInput.newBuilder().setCommand(v).build()),
                Named.as("command-by-name"));

    KStream<String, SpecificRecord> out =
        requested
            .merge(issued, Named.as("merge-issued"))
            .merge(failed, Named.as("merge-failed"))
            .merge(commands, Named.as("merge-commands"))
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
            route(topics.renewalRequested, RenewalRequested.class, "as-request", "request"));
    return builder.build();
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
