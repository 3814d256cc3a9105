package dev.renewal.challenge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.renewal.challenge.http01.Http01Responder;
import dev.renewal.challenge.http01.Http01Responses;
import dev.renewal.challenge.provision.SelfCheck;
import dev.renewal.config.Settings;
import dev.renewal.events.AcmeStatus;
import dev.renewal.events.AuthorizationObserved;
import dev.renewal.events.AuthorizationWorkState;
import dev.renewal.events.ChallengeObserved;
import dev.renewal.events.ChallengeRecord;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.ObservationSource;
import dev.renewal.infra.kafka.EmbeddedKafka;
import dev.renewal.order.OrderServiceApp;
import dev.renewal.testkit.StackFixture;
import dev.renewal.testkit.pebble.FaultyAcmeProxy;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.Topic;
import dev.renewal.topics.TopicReader;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * challenge-service with order-service, on the real broker, against Pebble with real HTTP-01 and
 * DNS-01 validation (fx.pebble("pebble")-challtestsrv resolves every name to 127.0.0.1).
 */
class ChallengeServiceIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();

  @RegisterExtension
  static final StackFixture fx =
      StackFixture.create().pebble("pebble", Map.of("PEBBLE_AUTHZREUSE", "0"));

  private Map<String, String> settings(URI directory, Path trust) {
    Map<String, String> s = fx.settings(directory, trust);
    s.put("ca.pebble.retry.budget", "20s");
    s.put("acme.key.dir", fx.work().resolve("keys-" + fx.prefix()).toString());
    s.put("order.group.id", "order-" + fx.prefix());
    s.put("challenge.group.id", "challenge-" + fx.prefix());
    s.put("challenge.http01.host", "127.0.0.1");
    s.put("challenge.http01.port", String.valueOf(fx.httpPort("pebble")));
    return s;
  }

  private Map<String, String> settings() {
    return settings(fx.pebble("pebble").directoryUrl(), fx.pebble("pebble").trustPem());
  }

  private OrderServiceApp orderService(Map<String, String> s) {
    return fx.keep(OrderServiceApp.start(Settings.of(s)));
  }

  private ChallengeServiceApp challengeService(Map<String, String> s) {
    ChallengeServiceApp app = fx.keep(ChallengeServiceApp.start(Settings.of(s)));
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!app.ready() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    return app;
  }

  private <V> List<ConsumerRecord<String, V>> await(
      Topic<String, V> topic, Predicate<ConsumerRecord<String, V>> filter, int count) {
    return new TopicReader(fx.stack().clientProps()).await(topic, filter, count, WAIT);
  }

  private <V> List<ConsumerRecord<String, V>> readAll(Topic<String, V> topic) {
    return new TopicReader(fx.stack().clientProps()).readAll(topic, Duration.ofSeconds(10));
  }

  private static Predicate<ConsumerRecord<String, AuthorizationObserved>> status(AcmeStatus s) {
    return r -> r.value().getStatus() == s;
  }

  @Test
  void aTwoNameOrderYieldsValidObservationsForBothAuthorizations() throws Exception {
    Map<String, String> s = settings();
    orderService(s);
    ChallengeServiceApp challenges = challengeService(s);
    String id = fx.publish(ChallengeType.HTTP_01, "one.example", "two.example");

    List<ConsumerRecord<String, AuthorizationObserved>> valid =
        await(fx.topics().authorizationObserved, status(AcmeStatus.VALID), 2);
    assertThat(valid).hasSize(2);
    assertThat(valid)
        .extracting(r -> r.value().getIdentifier())
        .containsExactlyInAnyOrder("one.example", "two.example");
    // Keyed by request id (co-partitioned with the order), one observation per authorization.
    assertThat(valid)
        .extracting(ConsumerRecord::key)
        .containsOnly(valid.get(0).value().getRequestId());
    assertThat(valid).extracting(r -> r.value().getAuthorizationUrl()).doesNotHaveDuplicates();
    assertThat(valid).allSatisfy(r -> assertThat(r.value().getReused()).isFalse());
    List<ConsumerRecord<String, ChallengeObserved>> triggered =
        await(
            fx.topics().challengeObserved,
            r -> r.value().getSource() == ObservationSource.TRIGGER_RESPONSE,
            2);
    assertThat(triggered).hasSize(2);
    assertThat(readAll(fx.topics().renewalFailed)).isEmpty();
    assertThat(challenges.metrics().get("challenges.triggered")).isEqualTo(2);
    // Each token is removed (tombstoned) once its authorization is terminal.
    List<ConsumerRecord<String, String>> tokens =
        new TopicReader(fx.stack().clientProps())
            .await(fx.topics().http01Responses, r -> r.value() == null, 2, WAIT);
    assertThat(tokens).hasSize(2);
    // The record ends with both authorizations DONE and their last statuses (written with DONE, in
    // one write); at most the order, then per authorization: the provisioning details with the
    // first observation, triggered, one processing observation, the last with DONE.
    List<ChallengeRecord> writes =
        new TopicReader(fx.stack().clientProps())
                .await(
                    fx.topics().challengeRecords,
                    r ->
                        r.key().equals(id)
                            && r.value().getAuthorizations().stream()
                                .allMatch(w -> w.getState() == AuthorizationWorkState.DONE),
                    1,
                    WAIT)
                .stream()
                .map(ConsumerRecord::value)
                .toList();
    assertThat(writes.get(0).getAuthorizations())
        .allSatisfy(
            w -> {
              assertThat(w.getLastAuthorizationStatus()).isEqualTo(AcmeStatus.VALID);
              assertThat(w.getLastChallengeStatus()).isEqualTo(AcmeStatus.VALID);
              assertThat(w.getToken()).isNotNull();
            });
    assertThat(readAll(fx.topics().challengeRecords).stream().filter(r -> r.key().equals(id)))
        .hasSizeLessThanOrEqualTo(1 + 2 * 4);
  }

  @Test
  void aTokenWrittenByOneInstanceIsAnsweredByAnother() throws Exception {
    // Instance A solves on its own port; Pebble validates only against instance B's port.
    Map<String, String> a = settings();
    a.put("challenge.http01.port", String.valueOf(EmbeddedKafka.freePort()));
    orderService(a);
    ChallengeServiceApp instanceA = challengeService(a);
    Publisher publisherB = fx.keep(Publisher.create(fx.stack().clientProps(), "instance-b"));
    Http01Responses responsesB =
        fx.keep(
            new Http01Responses(fx.topics().http01Responses, publisherB, fx.stack().clientProps())
                .start(WAIT));
    Http01Responder responderB =
        fx.keep(Http01Responder.start("127.0.0.1", fx.httpPort("pebble"), responsesB::get));

    fx.publish(ChallengeType.HTTP_01, "other-instance.example");

    assertThat(await(fx.topics().authorizationObserved, status(AcmeStatus.VALID), 1)).hasSize(1);
    assertThat(instanceA.http01Port()).isNotEqualTo(fx.httpPort("pebble"));
    assertThat(responderB.served())
        .as("Pebble fetched the token from instance B")
        .isGreaterThanOrEqualTo(1);
  }

  @Test
  void theSelfCheckAsksTheResponderOnceTheTokenIsReadAndNotBefore() throws Exception {
    Publisher publisher = fx.keep(Publisher.create(fx.stack().clientProps(), "self-check"));
    Http01Responses responses =
        fx.keep(
            new Http01Responses(fx.topics().http01Responses, publisher, fx.stack().clientProps())
                .start(WAIT));
    Http01Responder responder = fx.keep(Http01Responder.start("127.0.0.1", 0, responses::get));
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    fx.keep(scheduler::shutdownNow);
    SelfCheck selfCheck =
        new SelfCheck(
            URI.create("http://127.0.0.1:" + responder.port()),
            Duration.ofSeconds(1),
            scheduler,
            responses);

    CompletableFuture<Void> read = responses.whenRead("tok_A", "tok_A.right");
    CompletableFuture<Boolean> checked = selfCheck.await("tok_A", "tok_A.right");
    publisher.send(fx.topics().http01Responses, "tok_A", "tok_A.wrong").get();
    publisher.send(fx.topics().http01Responses, "tok_B", "tok_B.other").get();
    assertThat(responses.whenRead("tok_B", "tok_B.other")).succeedsWithin(WAIT);
    assertThat(read).as("another value of the token is not the one awaited").isNotDone();
    assertThat(checked).isNotDone();
    publisher.send(fx.topics().http01Responses, "tok_A", "tok_A.right").get();

    assertThat(read).succeedsWithin(WAIT);
    assertThat(checked).succeedsWithin(WAIT).isEqualTo(true);
    assertThat(responses.whenRead("tok_A", "tok_A.right")).as("a value already read").isDone();
    assertThat(responder.served()).as("one request, answered").isEqualTo(1);
    assertThat(responder.notFound()).as("no request before the token was there").isZero();

    // A token that never comes: false at the timeout, and the responder was never asked.
    assertThat(selfCheck.await("tok_never", "tok_never.v")).succeedsWithin(WAIT).isEqualTo(false);
    assertThat(responder.notFound()).isZero();
    assertThat(responder.served()).isEqualTo(1);
  }

  @Test
  void aChallengeTriggerAnsweredInvalidIsEvidenceAndTheAuthorizationDecides() throws Exception {
    FaultyAcmeProxy proxy =
        fx.keep(FaultyAcmeProxy.start(fx.pebble("pebble"), fx.work().resolve("proxy-keyfactor")))
            .with(FaultyAcmeProxy.challengeTriggerAnswersInvalid());
    Map<String, String> s = settings(proxy.directoryUrl(), proxy.trustPem());
    orderService(s);
    ChallengeServiceApp challenges = challengeService(s);
    fx.publish(ChallengeType.HTTP_01, "keyfactor.example");

    ChallengeObserved trigger =
        await(
                fx.topics().challengeObserved,
                r -> r.value().getSource() == ObservationSource.TRIGGER_RESPONSE,
                1)
            .get(0)
            .value();
    assertThat(trigger.getStatus()).isEqualTo(AcmeStatus.INVALID);
    assertThat(trigger.getProblem().getType())
        .isEqualTo("urn:ietf:params:acme:error:incorrectResponse");
    AuthorizationObserved valid =
        await(fx.topics().authorizationObserved, status(AcmeStatus.VALID), 1).get(0).value();
    assertThat(valid.getAuthorizationUrl()).isEqualTo(trigger.getAuthorizationUrl());
    assertThat(valid.getOccurredAt()).isAfterOrEqualTo(trigger.getOccurredAt());
    assertThat(readAll(fx.topics().renewalFailed)).isEmpty();
    assertThat(challenges.metrics().get("challenges.trigger.invalid")).isEqualTo(1);
    assertThat(proxy.challengeTriggers()).isEqualTo(1);
  }

  @Test
  void aRestartInTheMiddleOfPollingResumesPollingAndDoesNotTriggerAgain() throws Exception {
    AtomicBoolean hold = new AtomicBoolean(true);
    FaultyAcmeProxy proxy =
        fx.keep(FaultyAcmeProxy.start(fx.pebble("pebble"), fx.work().resolve("proxy-restart")))
            .with(
                exchange -> {
                  if (!hold.get() || !exchange.isAuthorizationRead() || exchange.status() != 200) {
                    return null;
                  }
                  // The CA keeps validating: the authorization reads as pending for a while.
                  ObjectNode body = (ObjectNode) JSON.readTree(exchange.body());
                  body.put("status", "pending");
                  body.withArray("challenges")
                      .forEach(c -> ((ObjectNode) c).put("status", "processing"));
                  return body.toString();
                });
    Map<String, String> s = settings(proxy.directoryUrl(), proxy.trustPem());
    orderService(s);
    ChallengeServiceApp first = ChallengeServiceApp.start(Settings.of(s));
    fx.publish(ChallengeType.HTTP_01, "restart.example");
    long deadline = System.nanoTime() + WAIT.toNanos();
    while ((proxy.challengeTriggers() < 1 || first.metrics().get("authorizations.polled") < 3)
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(proxy.challengeTriggers()).isEqualTo(1);
    first.close();

    ChallengeServiceApp second = challengeService(s);
    hold.set(false);
    AuthorizationObserved valid =
        await(fx.topics().authorizationObserved, status(AcmeStatus.VALID), 1).get(0).value();
    assertThat(valid.getIdentifier()).isEqualTo("restart.example");
    assertThat(second.metrics().get("authorizations.resumed")).isEqualTo(1);
    assertThat(second.metrics().get("challenges.triggered")).isZero();
    assertThat(proxy.challengeTriggers()).as("triggered once, before the restart").isEqualTo(1);
  }

  @Test
  void aWildcardNameIsValidatedWithDns01ThroughChalltestsrv() throws Exception {
    Map<String, String> s = settings();
    s.put("challenge.dns.provider", "challtestsrv");
    s.put("challenge.dns.challtestsrv.url", fx.pebble("pebble").challtestsrvUrl().toString());
    s.put("challenge.dns.resolver", fx.pebble("pebble").dnsServer());
    orderService(s);
    challengeService(s);
    fx.publish(ChallengeType.DNS_01, "*.wild.example");

    AuthorizationObserved valid =
        await(fx.topics().authorizationObserved, status(AcmeStatus.VALID), 1).get(0).value();
    assertThat(valid.getWildcard()).isTrue();
    assertThat(valid.getIdentifier()).isEqualTo("wild.example");
    ChallengeObserved trigger =
        await(
                fx.topics().challengeObserved,
                r -> r.value().getSource() == ObservationSource.TRIGGER_RESPONSE,
                1)
            .get(0)
            .value();
    assertThat(trigger.getChallengeType()).isEqualTo(ChallengeType.DNS_01);
    assertThat(readAll(fx.topics().renewalFailed)).isEmpty();
  }

  private static FaultyAcmeProxy.Quirk authorizationsStayPending() {
    return exchange -> {
      if (!exchange.isAuthorizationRead() || exchange.status() != 200) {
        return null;
      }
      ObjectNode body = (ObjectNode) JSON.readTree(exchange.body());
      body.put("status", "pending");
      body.withArray("challenges").forEach(c -> ((ObjectNode) c).put("status", "processing"));
      return body.toString();
    };
  }

  @Test
  void anAuthorizationStillPendingAtItsDeadlineIsObservedAsTimedOut() throws Exception {
    FaultyAcmeProxy proxy =
        fx.keep(FaultyAcmeProxy.start(fx.pebble("pebble"), fx.work().resolve("proxy-deadline")))
            .with(authorizationsStayPending());
    Map<String, String> s = settings(proxy.directoryUrl(), proxy.trustPem());
    s.put("ca.pebble.authorization.deadline", "3s");
    orderService(s);
    challengeService(s);
    fx.publish(ChallengeType.HTTP_01, "slow.example");

    AuthorizationObserved timedOut =
        await(fx.topics().authorizationObserved, status(AcmeStatus.TIMED_OUT), 1).get(0).value();
    assertThat(timedOut.getSource()).isEqualTo(ObservationSource.DEADLINE);
    assertThat(timedOut.getProblem().getType())
        .isEqualTo("urn:renewal:problem:authorization-timeout");
    assertThat(
            new TopicReader(fx.stack().clientProps())
                .await(fx.topics().http01Responses, r -> r.value() == null, 1, WAIT))
        .as("the token is removed after the deadline")
        .hasSize(1);
  }

  @Test
  void aChallengeTypeTheCaDoesNotOfferFailsClearly() throws Exception {
    FaultyAcmeProxy proxy =
        fx.keep(FaultyAcmeProxy.start(fx.pebble("pebble"), fx.work().resolve("proxy-no-http01")))
            .with(
                exchange -> {
                  if (!exchange.isAuthorizationRead() || exchange.status() != 200) {
                    return null;
                  }
                  ObjectNode body = (ObjectNode) JSON.readTree(exchange.body());
                  var kept = JSON.createArrayNode();
                  body.withArray("challenges")
                      .forEach(
                          c -> {
                            if (!c.path("type").asText().equals("http-01")) {
                              kept.add(c);
                            }
                          });
                  body.set("challenges", kept);
                  return body.toString();
                });
    Map<String, String> s = settings(proxy.directoryUrl(), proxy.trustPem());
    orderService(s);
    challengeService(s);
    String id = fx.publish(ChallengeType.HTTP_01, "dns-only.example");

    var failed = await(fx.topics().renewalFailed, r -> r.key().equals(id), 1).get(0).value();
    assertThat(failed.getStage()).hasToString("CHALLENGE");
    assertThat(failed.getRetryable()).isFalse();
    assertThat(failed.getProblem().getType())
        .isEqualTo("urn:renewal:problem:challenge-not-offered");
    assertThat(failed.getProblem().getDetail()).contains("HTTP_01").contains("dns-only.example");
    assertThat(proxy.challengeTriggers()).isZero();
  }
}
