package dev.renewal.order.handler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.acme.CaProfile;
import dev.renewal.acme.CaProfiles;
import dev.renewal.events.AcmeStatus;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.OrderRecord;
import dev.renewal.events.OrderRecordState;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.Stage;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.order.acme.AccountFailure;
import dev.renewal.order.acme.OrderGateway;
import dev.renewal.order.acme.PlacedOrder;
import dev.renewal.testkit.HandlerFixture;
import dev.renewal.topics.CompactedStore;
import java.io.IOException;
import java.net.URL;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.shredzone.acme4j.Problem;
import org.shredzone.acme4j.exception.AcmeNetworkException;
import org.shredzone.acme4j.exception.AcmeRateLimitedException;
import org.shredzone.acme4j.toolbox.JSON;

/**
 * One request through the handler against a scripted CA: each test says which calls the CA will get
 * and what it answers; any other call fails the test.
 */
class RequestHandlerTest {
  static final String ID = "3b8f7f4e-2a51-4c1e-8d0a-7c9e5b1a2f00";
  static final String ORDER = "https://ca.example/order/1";

  private final HandlerFixture fx = new HandlerFixture(4);
  private final CaProfile profile =
      HandlerFixture.profile(
          4,
          HandlerFixture.retries(4, Duration.ofSeconds(2), Duration.ofSeconds(30)),
          Duration.ofMinutes(1),
          Duration.ofMinutes(1));
  private final MockProducer<byte[], byte[]> producer = fx.producer();
  private final CompactedStore<OrderRecord> records =
      new CompactedStore<>(fx.topics().orderRecords, fx.publisher(), Map.of());
  private final ScriptedCa ca = new ScriptedCa();
  private final ServiceMetrics metrics = new ServiceMetrics("order-service");
  private final RequestHandler handler =
      new RequestHandler(
          CaProfiles.of(profile),
          fx.caCalls(profile, metrics),
          ca,
          records,
          fx.publisher(),
          fx.topics(),
          Clock.systemUTC(),
          metrics);

  @AfterEach
  void stop() {
    fx.close();
  }

  /** The CA's next answers, in order; a call with nothing scripted fails. */
  static final class ScriptedCa implements OrderGateway {
    final Deque<Supplier<PlacedOrder>> placeAnswers = new ArrayDeque<>();
    final Deque<Supplier<PlacedOrder>> fetchAnswers = new ArrayDeque<>();
    final List<String> calls = new ArrayList<>();
    final List<Long> callTimes = new ArrayList<>();

    @Override
    public synchronized PlacedOrder place(
        CaProfile profile, List<String> names, Optional<String> replaces) {
      calls.add("place " + names);
      callTimes.add(System.nanoTime());
      Supplier<PlacedOrder> answer = placeAnswers.poll();
      if (answer == null) {
        throw new AssertionError("unexpected newOrder for " + names);
      }
      return answer.get();
    }

    @Override
    public synchronized PlacedOrder fetch(CaProfile profile, String orderUrl) {
      calls.add("fetch " + orderUrl);
      Supplier<PlacedOrder> answer = fetchAnswers.poll();
      if (answer == null) {
        throw new AssertionError("unexpected fetch of " + orderUrl);
      }
      return answer.get();
    }
  }

  static PlacedOrder order() {
    return new PlacedOrder(
        "https://ca.example/acct/1",
        ORDER,
        ORDER + "/finalize",
        List.of("https://ca.example/authz/1", "https://ca.example/authz/2"),
        AcmeStatus.PENDING,
        Optional.of("pending"),
        Optional.of(Instant.parse("2026-12-01T00:00:00Z")));
  }

  static RenewalRequested request(int attempt) {
    return RenewalRequested.newBuilder()
        .setEventId("e")
        .setRequestId(ID)
        .setOccurredAt(Instant.EPOCH)
        .setCertificateName("shop")
        .setDnsNames(List.of("Shop.Example", "www.shop.example"))
        .setCaProfile("pebble")
        .setAttempt(attempt)
        .build();
  }

  static RuntimeException caError(String json) {
    return HandlerFixture.caError(json);
  }

  private void handle(RenewalRequested request) throws Exception {
    handler.handle(request.getRequestId(), request).get(10, TimeUnit.SECONDS);
  }

  private <T extends org.apache.avro.specific.SpecificRecord> List<T> sent(
      String topic, Class<T> type) {
    return fx.sent(topic, type);
  }

  @Test
  void aValidRequestBecomesOneOrderRecordedBeforeItIsAnnounced() throws Exception {
    ca.placeAnswers.add(RequestHandlerTest::order);
    handle(request(1));

    assertThat(ca.calls).containsExactly("place [shop.example, www.shop.example]");
    List<OrderPlaced> placed = sent("acme.order.placed", OrderPlaced.class);
    assertThat(placed).hasSize(1);
    assertThat(placed.get(0).getOrderUrl()).isEqualTo(ORDER);
    assertThat(placed.get(0).getAuthorizationUrls()).hasSize(2);
    assertThat(placed.get(0).getRequest().getDnsNames())
        .containsExactly("shop.example", "www.shop.example");
    assertThat(placed.get(0).getResumed()).isFalse();
    List<String> order = producer.history().stream().map(ProducerRecord::topic).toList();
    assertThat(order)
        .containsExactly("acme.order.records", "acme.order.placed", "acme.order.records");
    assertThat(sent("acme.order.records", OrderRecord.class))
        .extracting(OrderRecord::getState)
        .containsExactly(OrderRecordState.PLACED, OrderRecordState.EMITTED);
  }

  @Test
  void theSameRequestTwiceGivesOneOrder() throws Exception {
    ca.placeAnswers.add(RequestHandlerTest::order);
    var first = handler.handle(ID, request(1));
    var second = handler.handle(ID, request(1));
    first.get(10, TimeUnit.SECONDS);
    second.get(10, TimeUnit.SECONDS);
    handle(request(1));
    assertThat(ca.calls).hasSize(1);
    assertThat(sent("acme.order.placed", OrderPlaced.class)).hasSize(1);
    assertThat(metrics.snapshot()).containsEntry("requests.duplicate", 2L);
  }

  @Test
  void aRecordedButUnannouncedOrderIsReReadAndAnnouncedNotCreatedAgain() throws Exception {
    records
        .put(
            ID,
            OrderRecord.newBuilder()
                .setRequestId(ID)
                .setAttempt(1)
                .setState(OrderRecordState.PLACED)
                .setCaProfile("pebble")
                .setOrderUrl(ORDER)
                .setUpdatedAt(Instant.now())
                .build())
        .get();
    producer.clear();
    ca.fetchAnswers.add(RequestHandlerTest::order);
    handle(request(1));
    assertThat(ca.calls).containsExactly("fetch " + ORDER);
    List<OrderPlaced> placed = sent("acme.order.placed", OrderPlaced.class);
    assertThat(placed).hasSize(1);
    assertThat(placed.get(0).getResumed()).isTrue();
  }

  @Test
  void anInvalidRequestFailsValidationWithoutCallingTheCa() throws Exception {
    RenewalRequested bad =
        RenewalRequested.newBuilder(request(1)).setDnsNames(List.of("a_b.example")).build();
    handle(bad);
    assertThat(ca.calls).isEmpty();
    RenewalFailed failed = sent("renewal.failed", RenewalFailed.class).get(0);
    assertThat(failed.getStage()).isEqualTo(Stage.REQUEST_VALIDATION);
    assertThat(failed.getRetryable()).isFalse();
    assertThat(failed.getProblem().getDetail()).contains("a_b.example");
    assertThat(failed.getRequest()).isEqualTo(bad);
  }

  @Test
  void rateLimitedWaitsTheRetryAfterThenSucceeds() throws Exception {
    ca.placeAnswers.add(
        () -> {
          try {
            throw new RuntimeException(
                new AcmeRateLimitedException(
                    new Problem(
                        JSON.parse(
                            "{\"type\":\"urn:ietf:params:acme:error:rateLimited\",\"status\":429}"),
                        new URL("https://ca.example/x")),
                    Instant.now().plusMillis(400),
                    List.of()));
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        });
    ca.placeAnswers.add(RequestHandlerTest::order);
    handle(request(1));
    assertThat(ca.calls).hasSize(2);
    assertThat(Duration.ofNanos(ca.callTimes.get(1) - ca.callTimes.get(0)))
        .isGreaterThanOrEqualTo(Duration.ofMillis(350));
    assertThat(sent("acme.order.placed", OrderPlaced.class)).hasSize(1);
  }

  @Test
  void aRejectedIdentifierIsATerminalOrderFailureWithTheCasProblem() throws Exception {
    ca.placeAnswers.add(
        () -> {
          throw caError(
              "{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\",\"detail\":\"policy forbids\",\"status\":400}");
        });
    handle(request(1));
    assertThat(ca.calls).hasSize(1);
    RenewalFailed failed = sent("renewal.failed", RenewalFailed.class).get(0);
    assertThat(failed.getStage()).isEqualTo(Stage.ORDER);
    assertThat(failed.getRetryable()).isFalse();
    assertThat(failed.getProblem().getType())
        .isEqualTo("urn:ietf:params:acme:error:rejectedIdentifier");
    assertThat(failed.getProblem().getDetail()).isEqualTo("policy forbids");
  }

  @Test
  void networkErrorsAreRetriedWithinTheBudgetThenFailRetryable() throws Exception {
    for (int i = 0; i < 4; i++) {
      ca.placeAnswers.add(
          () -> {
            throw new RuntimeException(
                new AcmeNetworkException(new IOException("connection reset")));
          });
    }
    handle(request(1));
    assertThat(ca.calls).hasSize(4);
    RenewalFailed failed = sent("renewal.failed", RenewalFailed.class).get(0);
    assertThat(failed.getRetryable()).isTrue();
    assertThat(failed.getProblem().getType()).isEqualTo("urn:renewal:problem:network");
    assertThat(metrics.get("ca.retries")).isEqualTo(3);
  }

  @Test
  void aServerErrorThenSuccessPlacesTheOrder() throws Exception {
    ca.placeAnswers.add(
        () -> {
          throw caError("{\"type\":\"urn:ietf:params:acme:error:serverInternal\",\"status\":500}");
        });
    ca.placeAnswers.add(RequestHandlerTest::order);
    handle(request(1));
    assertThat(sent("acme.order.placed", OrderPlaced.class)).hasSize(1);
    assertThat(sent("renewal.failed", RenewalFailed.class)).isEmpty();
  }

  @Test
  void anAccountRefusalFailsAtTheAccountStage() throws Exception {
    ca.placeAnswers.add(
        () -> {
          throw new AccountFailure(
              caError(
                      "{\"type\":\"urn:ietf:params:acme:error:externalAccountRequired\",\"status\":403}")
                  .getCause());
        });
    handle(request(1));
    RenewalFailed failed = sent("renewal.failed", RenewalFailed.class).get(0);
    assertThat(failed.getStage()).isEqualTo(Stage.ACCOUNT);
    assertThat(failed.getProblem().getType())
        .isEqualTo("urn:ietf:params:acme:error:externalAccountRequired");
    assertThat(failed.getProblem().getDetail())
        .startsWith("CA profile 'pebble': its ACME account could not be created or used: ");
    assertThat(failed.getRetryable()).as("an operator fixes the profile").isFalse();
  }

  @Test
  void aRequestRevokedWhileItsOrderIsBeingPlacedRecordsAndAnnouncesNothing() throws Exception {
    // The partition moves while newOrder is on its way: the next owner has read the records to
    // their end; a record written here now would be one it never saw.
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    ca.placeAnswers.add(
        () -> {
          try {
            release.await(5, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return order();
        });
    var handled = handler.handle(ID, request(1));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (ca.calls.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    handler.cancel(List.of(records.partitionOf(ID)));
    release.countDown();

    assertThat(handled).failsWithin(Duration.ofSeconds(5));
    assertThat(sent("acme.order.placed", OrderPlaced.class)).isEmpty();
    assertThat(sent("acme.order.records", OrderRecord.class)).isEmpty();
    assertThat(records.get(ID)).isEmpty();
  }

  @Test
  void aReplayWithTheNextAttemptPlacesANewOrderAfterAFailure() throws Exception {
    ca.placeAnswers.add(
        () -> {
          throw caError(
              "{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\",\"status\":400}");
        });
    handle(request(1));
    ca.placeAnswers.add(RequestHandlerTest::order);
    handle(request(2));
    handle(request(1));
    assertThat(ca.calls).hasSize(2);
    assertThat(sent("acme.order.placed", OrderPlaced.class)).hasSize(1);
    assertThat(sent("acme.order.placed", OrderPlaced.class).get(0).getRequest().getAttempt())
        .isEqualTo(2);
  }
}
