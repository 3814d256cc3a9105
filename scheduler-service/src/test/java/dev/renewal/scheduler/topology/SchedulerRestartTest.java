package dev.renewal.scheduler.topology;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.contract.SampleEvents;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.ManagedCertificate;
import dev.renewal.events.RenewalDue;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.SchedulerInput;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.registry.InMemorySchemaRegistryClient;
import dev.renewal.scheduler.domain.Inventory;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.testkit.streams.TopologyTestKit;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;

/**
 * A task that starts again (its store restored from the changelog) rebuilds its index from the
 * store: what was scheduled before is renewed when its time comes, and what was decided before is
 * not decided again.
 */
class SchedulerRestartTest {
  private static final Instant START = Instant.parse("2026-12-01T10:00:00Z");
  private final SchedulerMetrics metrics =
      new SchedulerMetrics(new ServiceMetrics("scheduler-service"));

  private static KeyValueStore<String, ManagedCertificate> store(
      MockProcessorContext<String, SpecificRecord> context) {
    return TopologyTestKit.store(
        context,
        SchedulerTopology.STORE,
        new AvroSerdes(new InMemorySchemaRegistryClient(), true).value(ManagedCertificate.class));
  }

  private Scheduler scheduler() {
    return new Scheduler(
        SchedulerTopology.STORE, Duration.ofSeconds(1), Inventory.Rules.DEFAULT, metrics);
  }

  private static List<RenewalDue> due(MockProcessorContext<String, SpecificRecord> context) {
    return context.forwarded().stream()
        .map(f -> f.record().value())
        .filter(RenewalDue.class::isInstance)
        .map(RenewalDue.class::cast)
        .toList();
  }

  @Test
  void theScheduleSurvivesARestartAndNothingIsDecidedTwice() {
    MockProcessorContext<String, SpecificRecord> before = new MockProcessorContext<>();
    KeyValueStore<String, ManagedCertificate> store = store(before);
    Scheduler first = scheduler();
    first.init(before);
    before.setCurrentSystemTimeMs(START.toEpochMilli());
    for (String name : List.of("a", "b")) {
      RenewalRequested r =
          RenewalRequested.newBuilder(SampleEvents.request())
              .setRequestId("r-" + name)
              .setCertificateName(name)
              .setOccurredAt(START)
              .build();
      CertificateIssued c =
          CertificateIssued.newBuilder(SampleEvents.certificateIssued())
              .setRequestId("r-" + name)
              .setCertificateName(name)
              .setNotBefore(START)
              .setNotAfter(START.plusSeconds(name.equals("a") ? 60 : 600))
              .build();
      first.process(new Record<>(name, SchedulerInput.newBuilder().setRequested(r).build(), 0));
      first.process(new Record<>(name, SchedulerInput.newBuilder().setIssued(c).build(), 0));
    }
    // "a" is renewed before the restart.
    before
        .scheduledPunctuators()
        .get(0)
        .getPunctuator()
        .punctuate(START.plusSeconds(31).toEpochMilli());
    assertThat(due(before)).extracting(RenewalDue::getCertificateName).containsExactly("a");
    first.close();

    MockProcessorContext<String, SpecificRecord> after = new MockProcessorContext<>();
    after.addStateStore(store);
    Scheduler second = scheduler();
    second.init(after);
    MockProcessorContext.CapturedPunctuator punctuator = after.scheduledPunctuators().get(0);
    assertThat(punctuator.getInterval()).isEqualTo(Duration.ofSeconds(1));
    punctuator.getPunctuator().punctuate(START.plusSeconds(200).toEpochMilli());
    assertThat(due(after)).as("a was decided before the restart; b is not due yet").isEmpty();
    punctuator.getPunctuator().punctuate(START.plusSeconds(400).toEpochMilli());
    assertThat(due(after)).extracting(RenewalDue::getCertificateName).containsExactly("b");
    punctuator.getPunctuator().punctuate(START.plusSeconds(500).toEpochMilli());
    assertThat(due(after)).hasSize(1);
  }
}
