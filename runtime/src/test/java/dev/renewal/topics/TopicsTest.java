package dev.renewal.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.renewal.config.ConfigException;
import dev.renewal.config.Settings;
import dev.renewal.registry.InMemorySchemaRegistryClient;
import dev.renewal.serde.AvroSerdes;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TopicsTest {
  private final AvroSerdes serdes = new AvroSerdes(new InMemorySchemaRegistryClient(), true);

  @Test
  void everyTopicOfTheArchitectureExistsWithItsPolicy() {
    Topics topics = Topics.create(Settings.of(Map.of()), serdes);
    assertThat(topics.all())
        .extracting(Topic::name)
        .containsExactly(
            "renewal.requested",
            "renewal.requested.dlq",
            "acme.order.placed",
            "acme.challenge.observed",
            "acme.authorization.observed",
            "acme.authorization.reconciled",
            "certificate.issued",
            "renewal.failed",
            "acme.http01.responses",
            "acme.order.records",
            "acme.order.placed.dlq",
            "acme.challenge.records",
            "acme.order.ready",
            "acme.finalize.records",
            "acme.order.ready.dlq",
            "renewal.status",
            "acme.streams.dlq",
            "certificate.inventory",
            "certificate.due",
            "certificate.commands",
            "certificate.renewal-info",
            "certificate.revocation.requested",
            "certificate.revocation.requested.dlq",
            "certificate.revoked",
            "certificate.revocation.failed");
    assertThat(topics.http01Responses.compacted()).isTrue();
    assertThat(topics.all().stream().filter(Topic::compacted))
        .containsExactly(
            topics.http01Responses,
            topics.orderRecords,
            topics.challengeRecords,
            topics.finalizeRecords,
            topics.status,
            topics.inventory);
    assertThat(topics.renewalFailed.configs())
        .containsEntry("retention.ms", String.valueOf(90L * 24 * 3600 * 1000));
    assertThat(topics.renewalRequested.partitions()).isEqualTo(3);
  }

  @Test
  void prefixPartitionsAndRetentionComeFromSettings() {
    Topics topics =
        Topics.create(
            Settings.of(
                Map.of(
                    "topics.prefix",
                    "t1.",
                    "topics.partitions",
                    "12",
                    "topics.retention.ms",
                    "-1")),
            serdes);
    assertThat(topics.orderPlaced.name()).isEqualTo("t1.acme.order.placed");
    assertThat(topics.orderPlaced.partitions()).isEqualTo(12);
    assertThat(topics.orderPlaced.configs()).containsEntry("retention.ms", "-1");
    assertThat(topics.orderPlaced.newTopic((short) 1).numPartitions()).isEqualTo(12);
  }

  @Test
  void badTopicSettingsAreReportedTogether() {
    assertThatThrownBy(
            () ->
                Topics.create(
                    Settings.of(Map.of("topics.prefix", "a b", "topics.partitions", "0")), serdes))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).hasSize(2));
  }

  @Test
  void everyDeadLetterTopicIsListedAsOne() {
    Topics topics = Topics.create(new TopicSettings("p.", 3, (short) 1, 1000), serdes);
    assertThat(topics.deadLetters())
        .extracting(Topic::name)
        .containsExactlyInAnyOrderElementsOf(
            topics.all().stream().map(Topic::name).filter(n -> n.endsWith(".dlq")).toList());
  }
}
