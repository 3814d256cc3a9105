package dev.renewal.finalize.topology;

import dev.renewal.events.RequestStatus;
import dev.renewal.topics.Topic;
import dev.renewal.topics.Topics;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.ValueMapper;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The materialized view {@code renewal.status}: every request's latest status, from the events of
 * every stage (the rules are {@link StatusView}'s), kept in {@link #STORE} and written to the
 * compacted topic for {@code renewal status --summary} and dashboards.
 *
 * <p>A Kafka Streams application of its own, apart from the reconciliation: nothing acts on the
 * view, so it runs at-least-once (re-applying an event gives the same status) with a commit
 * interval of its own, and its five input topics stay out of the reconciliation's exactly-once
 * transactions. Its store's cache holds a request's changes until the next commit, so a request
 * that goes through several stages within one interval costs one changelog record and one {@code
 * renewal.status} record, not one per event.
 */
public final class StatusViewTopology {
  public static final String STORE = "status-store";

  private StatusViewTopology() {}

  public static Topology build(StreamsBuilder builder, Topics topics) {
    Serde<RequestStatus> serde = topics.status.valueSerde();
    KStream<String, RequestStatus> requested =
        statusOf(builder, topics.renewalRequested, "requested", StatusView::of);
    KStream<String, RequestStatus> placed =
        statusOf(builder, topics.orderPlaced, "placed", StatusView::of);
    KStream<String, RequestStatus> ready =
        statusOf(builder, topics.orderReady, "ready", StatusView::of);
    KStream<String, RequestStatus> issued =
        statusOf(builder, topics.certificateIssued, "issued", StatusView::of);
    KStream<String, RequestStatus> failed =
        statusOf(builder, topics.renewalFailed, "failed", StatusView::of);
    requested
        .merge(placed, Named.as("status-1"))
        .merge(ready, Named.as("status-2"))
        .merge(issued, Named.as("status-3"))
        .merge(failed, Named.as("status-events"))
        .groupByKey(Grouped.with("status-by-request", Serdes.String(), serde))
        .reduce(
            StatusView::newer,
            Named.as("status"),
            Materialized.<String, RequestStatus, KeyValueStore<Bytes, byte[]>>as(STORE)
                .withKeySerde(Serdes.String())
                .withValueSerde(serde))
        .toStream(Named.as("status-changes"))
        .to(topics.status.name(), Produced.with(Serdes.String(), serde).withName("renewal-status"));
    return builder.build();
  }

  /**
   * The statuses {@code topic}'s events imply; nodes {@code status-<name>}, {@code
   * status-of-<name>}.
   */
  private static <V> KStream<String, RequestStatus> statusOf(
      StreamsBuilder builder,
      Topic<String, V> topic,
      String name,
      ValueMapper<V, RequestStatus> status) {
    return builder.stream(topic.name(), topic.consumed().withName("status-" + name))
        .mapValues(status, Named.as("status-of-" + name));
  }
}
