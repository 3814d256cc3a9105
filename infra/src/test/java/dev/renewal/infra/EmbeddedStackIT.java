package dev.renewal.infra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.renewal.contract.SampleEvents;
import dev.renewal.events.RenewalRequested;
import dev.renewal.infra.kafka.TopicProvisioner;
import dev.renewal.infra.registry.EmbeddedRegistry;
import dev.renewal.registry.RestSchemaRegistryClient;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.serde.AvroSerializer;
import dev.renewal.serde.UndecodableRecordException;
import dev.renewal.topics.Topic;
import dev.renewal.topics.TopicSettings;
import dev.renewal.topics.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one-machine stack on a real broker: the contract end to end through Kafka. */
class EmbeddedStackIT {
  @TempDir static Path work;
  static EmbeddedStack stack;

  @BeforeAll
  static void start() {
    stack = EmbeddedStack.start(work, 0, 0, new TopicSettings("", 2, (short) 1, 3_600_000));
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  private static Topics topics(String prefix) {
    Topics topics =
        Topics.create(
            new TopicSettings(prefix, 2, (short) 1, 3_600_000),
            new AvroSerdes(new RestSchemaRegistryClient(stack.registryUrl()), true));
    try (Admin admin = Admin.create(stack.clientProps())) {
      TopicProvisioner.ensure(admin, topics.all(), (short) 1);
    }
    return topics;
  }

  private static <K, V> List<ConsumerRecord<K, V>> readAll(
      String topic, Deserializer<K> keys, Deserializer<V> values, int expected) {
    Map<String, Object> props = new HashMap<>(stack.clientProps());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + UUID.randomUUID());
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<ConsumerRecord<K, V>> out = new ArrayList<>();
    try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(props, keys, values)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (out.size() < expected && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static <V> void send(Topic<String, V> topic, SpecificRecord event) {
    try (KafkaProducer<String, V> producer =
        new KafkaProducer<>(
            stack.clientProps(), topic.keySerde().serializer(), topic.valueSerde().serializer())) {
      producer.send(topic.record(SampleEvents.REQUEST_ID, (V) event));
    }
  }

  @Test
  void oneRecordOfEveryEventTypeGoesThroughTheBrokerAndReadsBackEqual() {
    Topics topics = topics("roundtrip.");
    List<Topic<String, ? extends SpecificRecord>> eventTopics =
        List.of(
            topics.renewalRequested,
            topics.orderPlaced,
            topics.challengeObserved,
            topics.authorizationObserved,
            topics.authorizationReconciled,
            topics.certificateIssued,
            topics.renewalFailed);
    List<SpecificRecord> events = SampleEvents.all();
    for (int i = 0; i < events.size(); i++) {
      send(eventTopics.get(i), events.get(i));
    }
    // Read back with a fresh registry client: ids are resolved from the registry, not a cache.
    AvroSerdes fresh = new AvroSerdes(new RestSchemaRegistryClient(stack.registryUrl()), false);
    for (int i = 0; i < events.size(); i++) {
      SpecificRecord event = events.get(i);
      @SuppressWarnings("unchecked")
      Class<SpecificRecord> type = (Class<SpecificRecord>) event.getClass();
      var records =
          readAll(
              eventTopics.get(i).name(),
              Serdes.String().deserializer(),
              fresh.value(type).deserializer(),
              1);
      assertThat(records).hasSize(1);
      ConsumerRecord<String, SpecificRecord> record = records.get(0);
      assertThat(record.key()).isEqualTo(SampleEvents.REQUEST_ID);
      assertThat(record.value()).isEqualTo(event);
      assertThat(
              new String(
                  record.headers().lastHeader(AvroSerializer.EVENT_TYPE_HEADER).value(),
                  StandardCharsets.UTF_8))
          .isEqualTo(event.getSchema().getName());
    }
  }

  @Test
  void aRestartedRegistryOnTheSameBrokerDecodesAnOldRecordByItsId() throws Exception {
    String schemasTopic = "_schemas_restart_it";
    String topic = "restart.renewal.requested";
    byte[] bytes;
    int id;
    try (EmbeddedRegistry first =
        EmbeddedRegistry.start(stack.clientProps(), schemasTopic, (short) 1, 0)) {
      var client = new RestSchemaRegistryClient(first.url());
      bytes =
          new AvroSerdes(client, true)
              .value(RenewalRequested.class)
              .serializer()
              .serialize(topic, SampleEvents.request());
      id = client.lookup(topic + "-value", RenewalRequested.getClassSchema());
    }
    try (EmbeddedRegistry second =
        EmbeddedRegistry.start(stack.clientProps(), schemasTopic, (short) 1, 0)) {
      var client = new RestSchemaRegistryClient(second.url());
      RenewalRequested read =
          new AvroSerdes(client, false)
              .value(RenewalRequested.class)
              .deserializer()
              .deserialize(topic, bytes);
      assertThat(read).isEqualTo(SampleEvents.request());
      assertThat(client.register(topic + "-value", RenewalRequested.getClassSchema()))
          .isEqualTo(id);
    }
  }

  @Test
  void theRegistryRejectsANewFieldWithoutADefaultWith409AndConfluentsBody() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    String base = stack.registryUrl() + "/subjects/it-incompatible-value/versions";
    String v1 =
        "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"A\\\",\\\"fields\\\":[{\\\"name\\\":\\\"x\\\",\\\"type\\\":\\\"int\\\"}]}\"}";
    String v2 =
        "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"A\\\",\\\"fields\\\":[{\\\"name\\\":\\\"x\\\",\\\"type\\\":\\\"int\\\"},{\\\"name\\\":\\\"y\\\",\\\"type\\\":\\\"int\\\"}]}\"}";
    HttpResponse<String> first =
        http.send(
            HttpRequest.newBuilder(URI.create(base))
                .POST(HttpRequest.BodyPublishers.ofString(v1))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(first.statusCode()).isEqualTo(200);
    HttpResponse<String> second =
        http.send(
            HttpRequest.newBuilder(URI.create(base))
                .POST(HttpRequest.BodyPublishers.ofString(v2))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(second.statusCode()).isEqualTo(409);
    assertThat(second.body())
        .startsWith("{\"error_code\":409,\"message\":\"Schema being registered is incompatible");
  }

  @Test
  void garbageOnARequestTopicFailsTheConsumerWithAnErrorNamingTheTopicAndOffset() {
    Topics topics = topics("garbage.");
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            stack.clientProps(), new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.send(
          new ProducerRecord<>(
              topics.renewalRequested.name(),
              0,
              null,
              "{not avro}".getBytes(StandardCharsets.UTF_8)));
    }
    Map<String, Object> props = new HashMap<>(stack.clientProps());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "it-garbage");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    Serde<RenewalRequested> serde = topics.renewalRequested.valueSerde();
    try (KafkaConsumer<String, RenewalRequested> consumer =
        new KafkaConsumer<>(props, Serdes.String().deserializer(), serde.deserializer())) {
      consumer.subscribe(List.of(topics.renewalRequested.name()));
      assertThatThrownBy(
              () -> {
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (System.nanoTime() < deadline) {
                  consumer.poll(Duration.ofMillis(200));
                }
              })
          .isInstanceOfSatisfying(
              RecordDeserializationException.class,
              e -> {
                assertThat(e.topicPartition().topic()).isEqualTo("garbage.renewal.requested");
                assertThat(e.offset()).isZero();
                assertThat(e.getCause())
                    .isInstanceOf(UndecodableRecordException.class)
                    .hasMessageContaining("garbage.renewal.requested")
                    .hasMessageContaining("magic byte");
              });
    }
  }

  @Test
  void provisioningCreatesEveryTopicWithItsPolicyAndIsIdempotent() throws Exception {
    Topics topics = topics("provision.");
    try (Admin admin = Admin.create(stack.clientProps())) {
      TopicProvisioner.Result again = TopicProvisioner.ensure(admin, topics.all(), (short) 1);
      assertThat(again.created()).isEmpty();
      assertThat(again.existing()).hasSize(topics.all().size());
      assertThat(again.warnings()).isEmpty();
      Set<String> names = admin.listTopics().names().get();
      assertThat(names).containsAll(topics.all().stream().map(Topic::name).toList());
      ConfigResource http01 =
          new ConfigResource(ConfigResource.Type.TOPIC, topics.http01Responses.name());
      ConfigResource failed =
          new ConfigResource(ConfigResource.Type.TOPIC, topics.renewalFailed.name());
      Map<ConfigResource, Config> configs =
          admin.describeConfigs(List.of(http01, failed)).all().get();
      assertThat(configs.get(http01).get("cleanup.policy").value()).isEqualTo("compact");
      assertThat(configs.get(failed).get("cleanup.policy").value()).isEqualTo("delete");
      assertThat(configs.get(failed).get("retention.ms").value()).isEqualTo("3600000");
      assertThat(
              admin
                  .describeTopics(List.of(topics.orderPlaced.name()))
                  .allTopicNames()
                  .get()
                  .get(topics.orderPlaced.name())
                  .partitions())
          .hasSize(2);
    }
  }
}
