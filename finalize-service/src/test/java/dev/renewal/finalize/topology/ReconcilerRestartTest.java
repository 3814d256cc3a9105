package dev.renewal.finalize.topology;

import static dev.renewal.finalize.topology.ReconciliationTopologyTest.A1;
import static dev.renewal.finalize.topology.ReconciliationTopologyTest.GRACE;
import static dev.renewal.finalize.topology.ReconciliationTopologyTest.REQUEST;
import static dev.renewal.finalize.topology.ReconciliationTopologyTest.RETENTION;
import static dev.renewal.finalize.topology.ReconciliationTopologyTest.authorizationObserved;
import static dev.renewal.finalize.topology.ReconciliationTopologyTest.challengeObserved;
import static dev.renewal.finalize.topology.ReconciliationTopologyTest.order;
import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.events.AcmeStatus;
import dev.renewal.events.ReconciliationInput;
import dev.renewal.events.ReconciliationState;
import dev.renewal.events.RenewalFailed;
import dev.renewal.metrics.ServiceMetrics;
import java.time.Duration;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;

/**
 * The in-memory index of WAITING decisions is rebuilt from the store when a task starts again: a
 * wait begun before a restart still ends when its grace passes.
 */
class ReconcilerRestartTest {
  static Reconciler reconciler() {
    return new Reconciler(
        ReconciliationTopology.STORE,
        GRACE,
        Duration.ofSeconds(1),
        RETENTION,
        new ServiceMetrics("finalize-service"),
        new DecisionCommits(Duration.ofMillis(100)));
  }

  @Test
  void aWaitBegunBeforeARestartEndsWhenItsGracePasses() throws Exception {
    MockProcessorContext<String, SpecificRecord> before = new MockProcessorContext<>();
    KeyValueStore<String, ReconciliationState> store = TopologyTests.reconciliationStore(before);
    Reconciler first = reconciler();
    first.init(before);
    before.setCurrentSystemTimeMs(1_000);
    first.process(
        new Record<>(
            REQUEST,
            ReconciliationInput.newBuilder().setPlaced(order(AcmeStatus.PENDING, A1)).build(),
            1_000));
    first.process(
        new Record<>(
            REQUEST,
            ReconciliationInput.newBuilder()
                .setChallenge(challengeObserved(A1, AcmeStatus.INVALID))
                .build(),
            1_000));
    first.process(
        new Record<>(
            REQUEST,
            ReconciliationInput.newBuilder()
                .setAuthorization(authorizationObserved(A1, AcmeStatus.PENDING))
                .build(),
            1_000));
    assertThat(failures(before)).isEmpty();

    // The task starts again on the same store (restored from its changelog in a real restart).
    MockProcessorContext<String, SpecificRecord> after = new MockProcessorContext<>();
    after.addStateStore(store);
    Reconciler second = reconciler();
    second.init(after);
    MockProcessorContext.CapturedPunctuator expiry = after.scheduledPunctuators().get(0);
    assertThat(expiry.getInterval()).isEqualTo(Duration.ofSeconds(1));

    expiry.getPunctuator().punctuate(1_000 + GRACE.toMillis() - 1_000);
    assertThat(failures(after)).as("still within the grace").isEmpty();
    expiry.getPunctuator().punctuate(1_000 + GRACE.toMillis() + 1_000);
    assertThat(failures(after))
        .singleElement()
        .satisfies(f -> assertThat(f.getRetryable()).isTrue());
    store.close();
  }

  private static List<RenewalFailed> failures(MockProcessorContext<String, SpecificRecord> ctx) {
    return ctx.forwarded().stream()
        .map(f -> f.record().value())
        .filter(RenewalFailed.class::isInstance)
        .map(RenewalFailed.class::cast)
        .toList();
  }
}
