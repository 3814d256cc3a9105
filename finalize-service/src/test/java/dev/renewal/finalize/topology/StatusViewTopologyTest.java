package dev.renewal.finalize.topology;

import static dev.renewal.finalize.topology.ReconciliationTopologyTest.A1;
import static dev.renewal.finalize.topology.ReconciliationTopologyTest.ORDER;
import static dev.renewal.finalize.topology.ReconciliationTopologyTest.REQUEST;
import static dev.renewal.finalize.topology.ReconciliationTopologyTest.order;
import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.events.AcmeStatus;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.OrderReady;
import dev.renewal.events.Problem;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.RequestState;
import dev.renewal.events.RequestStatus;
import dev.renewal.events.Stage;
import dev.renewal.finalize.FinalizeServiceApp;
import dev.renewal.registry.InMemorySchemaRegistryClient;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.topics.DeadLetter;
import dev.renewal.topics.TopicSettings;
import dev.renewal.topics.Topics;
import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The {@code renewal.status} view's rules, through its own Streams application. */
class StatusViewTopologyTest {
  private final AvroSerdes serdes = new AvroSerdes(new InMemorySchemaRegistryClient(), true);
  private final Topics topics = Topics.create(new TopicSettings("", 3, (short) 1, 1000), serdes);
  private TopologyTestDriver driver;
  private TestInputTopic<String, RenewalRequested> requests;
  private TestInputTopic<String, OrderPlaced> orders;
  private TestInputTopic<String, OrderReady> ready;
  private TestInputTopic<String, CertificateIssued> issued;
  private TestInputTopic<String, RenewalFailed> failures;
  private TestOutputTopic<String, RequestStatus> status;
  private final Map<String, RequestStatus> view = new HashMap<>();

  @BeforeEach
  void start() {
    driver =
        TopologyTests.driver(
            StatusViewTopology.build(new StreamsBuilder(), topics), StreamsConfig.AT_LEAST_ONCE);
    requests = TopologyTests.input(driver, topics.renewalRequested);
    orders = TopologyTests.input(driver, topics.orderPlaced);
    ready = TopologyTests.input(driver, topics.orderReady);
    issued = TopologyTests.input(driver, topics.certificateIssued);
    failures = TopologyTests.input(driver, topics.renewalFailed);
    status = TopologyTests.output(driver, topics.status);
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  /** The request's status in the view as read from {@code renewal.status} so far. */
  private RequestStatus now() {
    view.putAll(status.readKeyValuesToMap());
    return view.get(REQUEST);
  }

  @Test
  void aRecordThatCannotBeDecodedIsDeadLetteredAndTheViewGoesOn() {
    driver.close();
    Properties deadLetters = new Properties();
    FinalizeServiceApp.deadLetters(deadLetters, topics.streamsDlq.name());
    driver =
        TopologyTests.driver(
            StatusViewTopology.build(new StreamsBuilder(), topics),
            StreamsConfig.AT_LEAST_ONCE,
            deadLetters);
    requests = TopologyTests.input(driver, topics.renewalRequested);
    status = TopologyTests.output(driver, topics.status);
    byte[] poison = new byte[64];
    new java.util.Random(7).nextBytes(poison);
    poison[0] = (byte) 0xa5;
    driver
        .createInputTopic(
            topics.renewalRequested.name(),
            new org.apache.kafka.common.serialization.StringSerializer(),
            new org.apache.kafka.common.serialization.ByteArraySerializer())
        .pipeInput("garbage", poison);

    requests.pipeInput(REQUEST, order(AcmeStatus.PENDING, A1).getRequest());

    assertThat(now().getState()).isEqualTo(RequestState.REQUESTED);
    var dlq =
        driver
            .createOutputTopic(
                topics.streamsDlq.name(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())
            .readRecordsToList();
    assertThat(dlq).hasSize(1);
    assertThat(dlq.get(0).value()).isEqualTo(poison);
    assertThat(DeadLetter.header(dlq.get(0).headers(), DeadLetter.SOURCE_TOPIC))
        .isEqualTo("renewal.requested");
    assertThat(DeadLetter.header(dlq.get(0).headers(), DeadLetter.REASON))
        .startsWith("undecodable");
    assertThat(DeadLetter.header(dlq.get(0).headers(), DeadLetter.SERVICE))
        .isEqualTo("finalize-service");
  }

  @Test
  void theStatusViewFollowsEachRequestToItsEndAndAReplayStartsItAgain() {

    RenewalRequested first = order(AcmeStatus.PENDING, A1).getRequest();
    requests.pipeInput(REQUEST, first);
    assertThat(now().getState()).isEqualTo(RequestState.REQUESTED);
    assertThat(now().getCertificateName()).isEqualTo("shop");

    OrderPlaced placed = order(AcmeStatus.PENDING, A1);
    orders.pipeInput(REQUEST, placed);
    assertThat(now().getState()).isEqualTo(RequestState.ORDER_PLACED);
    ready.pipeInput(
        REQUEST,
        OrderReady.newBuilder()
            .setEventId("r")
            .setRequestId(REQUEST)
            .setOccurredAt(Instant.EPOCH.plusSeconds(2))
            .setPlaced(placed)
            .build());
    assertThat(now().getState()).isEqualTo(RequestState.READY);

    issued.pipeInput(
        REQUEST,
        CertificateIssued.newBuilder()
            .setEventId("i")
            .setRequestId(REQUEST)
            .setOccurredAt(Instant.EPOCH.plusSeconds(5))
            .setCertificateName("shop")
            .setOrderUrl(ORDER)
            .setCertificateUrl(ORDER + "/cert")
            .setChainPem("-----BEGIN CERTIFICATE-----")
            .setAlternateChains(List.of())
            .setSerialNumber("0a1b")
            .setNotBefore(Instant.EPOCH)
            .setNotAfter(Instant.EPOCH.plusSeconds(86400))
            .setIssuer("CN=test")
            .setDnsNames(List.of("shop.example"))
            .setAttempt(1)
            .build());
    RequestStatus done = now();
    assertThat(done.getState()).isEqualTo(RequestState.ISSUED);
    assertThat(done.getSerialNumber()).isEqualTo("0a1b");
    assertThat(done.getRequestedAt()).isEqualTo(Instant.EPOCH);

    // A late duplicate of an earlier stage does not move an issued request back.
    requests.pipeInput(REQUEST, first);
    assertThat(now().getState()).isEqualTo(RequestState.ISSUED);

    // A replay (attempt 2) starts again; attempt 1's late failure does not override it.
    RenewalRequested second = RenewalRequested.newBuilder(first).setAttempt(2).build();
    requests.pipeInput(REQUEST, second);
    assertThat(now().getState()).isEqualTo(RequestState.REQUESTED);
    assertThat(now().getAttempt()).isEqualTo(2);
    failures.pipeInput(
        REQUEST,
        RenewalFailed.newBuilder()
            .setEventId("f")
            .setRequestId(REQUEST)
            .setOccurredAt(Instant.EPOCH.plusSeconds(9))
            .setStage(Stage.CHALLENGE)
            .setProblem(Problem.newBuilder().setType("urn:x:late").build())
            .setRetryable(true)
            .setRequest(first)
            .build());
    assertThat(now().getState()).isEqualTo(RequestState.REQUESTED);
    assertThat(now().getAttempt()).isEqualTo(2);
    failures.pipeInput(
        REQUEST,
        RenewalFailed.newBuilder()
            .setEventId("g")
            .setRequestId(REQUEST)
            .setOccurredAt(Instant.EPOCH.plusSeconds(10))
            .setStage(Stage.CHALLENGE)
            .setProblem(Problem.newBuilder().setType("urn:ietf:params:acme:error:dns").build())
            .setRetryable(true)
            .setRequest(second)
            .build());
    RequestStatus failedNow = now();
    assertThat(failedNow.getState()).isEqualTo(RequestState.FAILED);
    assertThat(failedNow.getFailedStage()).isEqualTo(Stage.CHALLENGE);
    assertThat(failedNow.getProblemType()).isEqualTo("urn:ietf:params:acme:error:dns");
    assertThat(failedNow.getAttempt()).isEqualTo(2);
  }

  @Test
  void theTopologyIsUnchanged() throws IOException {
    String described =
        TopologyTests.assertUnchanged(
            StatusViewTopology.build(new StreamsBuilder(), topics), "status-view-topology.txt");
    assertThat(described)
        .contains(StatusViewTopology.STORE)
        .doesNotContain(ReconciliationTopology.STORE)
        .doesNotContain("Sub-topology: 1");
  }
}
