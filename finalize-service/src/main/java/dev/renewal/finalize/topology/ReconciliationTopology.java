package dev.renewal.finalize.topology;

import dev.renewal.events.AuthorizationReconciled;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.OrderReady;
import dev.renewal.events.ReconciliationInput;
import dev.renewal.events.ReconciliationState;
import dev.renewal.events.RenewalFailed;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.serde.AvroSerdes;
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
import org.apache.kafka.streams.state.Stores;

/**
 * finalize-service's reconciliation, built by one factory that {@code main} and the tests share.
 * Observations and orders, all keyed by request id on co-partitioned topics, are merged; one
 * processor with one store decides. Every node and store is named: renaming one breaks a running
 * application's state. The {@code renewal.status} view is an application of its own ({@link
 * StatusViewTopology}).
 */
public final class ReconciliationTopology {
  public static final String STORE = "reconciliation-store";

  /**
   * The default of {@code finalize.commit.interval}: how often the exactly-once Streams commit.
   * Each commit is a transaction and an offset per input partition: at 100 ms they cost 1.7 {@code
   * __transaction_state} and 3.1 {@code __consumer_offsets} records per certificate under load, at
   * 500 ms 0.4 and 1.1 (docs/benchmarks.md, eighth round). Sparse decisions do not wait for it
   * ({@link #DECISION_QUIET}).
   */
  public static final Duration DEFAULT_COMMIT_INTERVAL = Duration.ofMillis(500);

  /**
   * An order decision this long after the previous one is committed at once ({@link
   * DecisionCommits}), whatever the commit interval: one request at a time never waits for it.
   */
  public static final Duration DECISION_QUIET = Duration.ofMillis(100);

  private ReconciliationTopology() {}

  /**
   * The topology; its decisions are counted in {@code metrics}. A request's state is deleted from
   * the store once it has not changed for {@code retention}. An order decision that comes at least
   * {@link #DECISION_QUIET} (or {@code commitInterval}, if shorter) after the previous one is
   * committed at once ({@link DecisionCommits}).
   */
  public static Topology build(
      StreamsBuilder builder,
      Topics topics,
      AvroSerdes serdes,
      Duration grace,
      Duration punctuateEvery,
      Duration retention,
      ServiceMetrics metrics,
      Duration commitInterval) {
    DecisionCommits commits =
        new DecisionCommits(
            commitInterval.compareTo(DECISION_QUIET) < 0 ? commitInterval : DECISION_QUIET);
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(STORE),
                Serdes.String(),
                serdes.value(ReconciliationState.class))
            .withCachingEnabled());

    // Observations are keyed by request id, like the orders, on topics with as many partitions:
    // a request's order and observations reach the same task without a repartition topic.
    KStream<String, ReconciliationInput> challenges =
        builder.stream(
                topics.challengeObserved.name(),
                topics.challengeObserved.consumed().withName("challenge-observed"))
            .mapValues(
                v -> ReconciliationInput.newBuilder().setChallenge(v).build(),
                Named.as("challenge-input"));
    KStream<String, ReconciliationInput> authorizations =
        builder.stream(
                topics.authorizationObserved.name(),
                topics.authorizationObserved.consumed().withName("authorization-observed"))
            .mapValues(
                v -> ReconciliationInput.newBuilder().setAuthorization(v).build(),
                Named.as("authorization-input"));
    KStream<String, ReconciliationInput> observations =
        challenges.merge(authorizations, Named.as("observations"));
    KStream<String, OrderPlaced> placed =
        builder.stream(
            topics.orderPlaced.name(), topics.orderPlaced.consumed().withName("order-placed"));
    KStream<String, ReconciliationInput> orders =
        placed.mapValues(
            v -> ReconciliationInput.newBuilder().setPlaced(v).build(), Named.as("order-input"));

    KStream<String, SpecificRecord> decisions =
        observations
            .merge(orders, Named.as("inputs"))
            .process(
                () -> new Reconciler(STORE, grace, punctuateEvery, retention, metrics, commits),
                Named.as("reconcile"),
                STORE);

    decisions
        .split(Named.as("route-"))
        .branch(
            (k, v) -> v instanceof AuthorizationReconciled,
            route(
                topics.authorizationReconciled,
                AuthorizationReconciled.class,
                "as-reconciled",
                "authorization-reconciled",
                "reconciled"))
        .branch(
            (k, v) -> v instanceof OrderReady,
            route(topics.orderReady, OrderReady.class, "as-ready", "order-ready", "ready"))
        .branch(
            (k, v) -> v instanceof RenewalFailed,
            route(
                topics.renewalFailed,
                RenewalFailed.class,
                "as-failed",
                "renewal-failed",
                "failed"));

    return builder.build();
  }

  /**
   * A branch of the decisions: those of {@code type}, cast (node {@code cast}), to {@code topic}.
   */
  private static <T extends SpecificRecord> Branched<String, SpecificRecord> route(
      dev.renewal.topics.Topic<String, T> topic,
      Class<T> type,
      String cast,
      String sink,
      String name) {
    return Branched.withConsumer(
        s ->
            s.mapValues(type::cast, Named.as(cast))
                .to(
                    topic.name(),
                    Produced.with(Serdes.String(), topic.valueSerde()).withName(sink)),
        name);
  }
}
