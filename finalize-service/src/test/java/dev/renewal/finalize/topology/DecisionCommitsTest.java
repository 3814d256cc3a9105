package dev.renewal.finalize.topology;

import static dev.renewal.finalize.topology.ReconciliationTopologyTest.A1;
import static dev.renewal.finalize.topology.ReconciliationTopologyTest.REQUEST;
import static dev.renewal.finalize.topology.ReconciliationTopologyTest.authorizationObserved;
import static dev.renewal.finalize.topology.ReconciliationTopologyTest.order;
import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.events.AcmeStatus;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.OrderReady;
import dev.renewal.events.ReconciliationInput;
import java.time.Duration;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;

/**
 * A sparse order decision is committed at once (the worker reads committed records only); dense
 * ones wait for the commit interval.
 */
class DecisionCommitsTest {
  @Test
  void aDecisionAtLeastTheQuietIntervalAfterThePreviousOneIsCommittedAtOnce() {
    DecisionCommits commits = new DecisionCommits(Duration.ofMillis(100));
    assertThat(commits.decided(1_000)).as("the first").isTrue();
    assertThat(commits.decided(1_040)).isFalse();
    assertThat(commits.decided(1_090)).as("50 ms after the previous one").isFalse();
    assertThat(commits.decided(1_190)).as("100 ms after the previous one").isTrue();
    assertThat(commits.decided(1_191)).isFalse();
  }

  @Test
  void theReconcilerAsksForACommitAfterASparseOrderDecisionAndOnlyThen() {
    MockProcessorContext<String, SpecificRecord> context = new MockProcessorContext<>();
    TopologyTests.reconciliationStore(context);
    Reconciler reconciler = ReconcilerRestartTest.reconciler();
    reconciler.init(context);

    context.setCurrentSystemTimeMs(1_000);
    reconciler.process(input(REQUEST, order(AcmeStatus.PENDING, A1)));
    assertThat(context.committed()).as("no decision yet").isFalse();
    reconciler.process(
        new Record<>(
            REQUEST,
            ReconciliationInput.newBuilder()
                .setAuthorization(authorizationObserved(A1, AcmeStatus.VALID))
                .build(),
            1_000));
    assertThat(readyFor(context)).containsExactly(REQUEST);
    assertThat(context.committed()).as("a sparse decision").isTrue();

    context.resetCommit();
    context.setCurrentSystemTimeMs(1_020);
    reconciler.process(input("request-2", ready("request-2")));
    assertThat(readyFor(context)).contains("request-2");
    assertThat(context.committed()).as("20 ms after the previous decision").isFalse();

    context.setCurrentSystemTimeMs(1_500);
    reconciler.process(input("request-3", ready("request-3")));
    assertThat(readyFor(context)).contains("request-3");
    assertThat(context.committed()).as("480 ms after the previous decision").isTrue();
  }

  private static OrderPlaced ready(String requestId) {
    return OrderPlaced.newBuilder(order(AcmeStatus.READY, A1))
        .setRequestId(requestId)
        .setOrderUrl("https://ca.example/order/" + requestId)
        .build();
  }

  private static Record<String, ReconciliationInput> input(String key, OrderPlaced placed) {
    return new Record<>(key, ReconciliationInput.newBuilder().setPlaced(placed).build(), 1_000);
  }

  private static java.util.List<String> readyFor(
      MockProcessorContext<String, SpecificRecord> context) {
    return context.forwarded().stream()
        .map(f -> f.record().value())
        .filter(OrderReady.class::isInstance)
        .map(v -> ((OrderReady) v).getRequestId())
        .toList();
  }
}
