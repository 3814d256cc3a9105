package dev.renewal.finalize.handler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.acme.CaProfile;
import dev.renewal.acme.CaProfiles;
import dev.renewal.acme.PollPolicy;
import dev.renewal.events.AcmeStatus;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.FinalizeRecord;
import dev.renewal.events.FinalizeState;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.OrderReady;
import dev.renewal.events.Problem;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.Stage;
import dev.renewal.finalize.acme.FinalizeGateway;
import dev.renewal.finalize.acme.IssuedCertificate;
import dev.renewal.finalize.acme.OrderView;
import dev.renewal.testkit.HandlerFixture;
import dev.renewal.topics.CompactedStore;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.shredzone.acme4j.toolbox.JSON;

/** The finalization worker against a scripted CA that fails on any call it was not told about. */
class FinalizeHandlerTest {
  static final String ID = "9c0e2f3a-1111-4222-8333-444455556666";
  static final String ORDER = "https://ca.example/order/9";

  @TempDir Path dir;
  private final HandlerFixture fx = new HandlerFixture(2);
  private final ScriptedCa ca = new ScriptedCa();

  @AfterEach
  void stop() {
    fx.close();
  }

  private FinalizeHandler handler(Duration orderDeadline) {
    CaProfile profile = HandlerFixture.profile(Duration.ofMinutes(1), orderDeadline);
    dev.renewal.metrics.ServiceMetrics metrics =
        new dev.renewal.metrics.ServiceMetrics("finalize-service");
    return new FinalizeHandler(
        CaProfiles.of(profile),
        fx.caCalls(profile, metrics),
        ca,
        new CompactedStore<FinalizeRecord>(fx.topics().finalizeRecords, fx.publisher(), Map.of()),
        new CertificateKeys(dir.resolve("keys")),
        new CertificateFiles(dir.resolve("out")),
        fx.publisher(),
        fx.topics(),
        Clock.systemUTC(),
        fx.scheduler(),
        new PollPolicy(Duration.ofMillis(5), Duration.ofMillis(50)),
        metrics);
  }

  /** Order statuses the CA will report, in order; the last one repeats. */
  static final class ScriptedCa implements FinalizeGateway {
    final Deque<OrderView> statuses = new ArrayDeque<>();
    final Deque<RuntimeException> finalizeErrors = new ArrayDeque<>();
    final List<String> calls = new ArrayList<>();

    @Override
    public synchronized OrderView fetch(CaProfile profile, String orderUrl) {
      calls.add("fetch");
      OrderView v = statuses.size() > 1 ? statuses.poll() : statuses.peek();
      if (v == null) {
        throw new AssertionError("unexpected fetch");
      }
      return v;
    }

    @Override
    public synchronized void finalizeWithKey(CaProfile profile, String orderUrl, KeyPair key) {
      calls.add("finalize");
      RuntimeException e = finalizeErrors.poll();
      if (e != null) {
        throw e;
      }
    }

    @Override
    public void finalizeWithCsr(CaProfile profile, String orderUrl, byte[] csrDer) {
      throw new AssertionError("unexpected finalize with a CSR");
    }

    @Override
    public Revocation revoke(
        CaProfile profile,
        String orderUrl,
        String serial,
        Optional<String> leafPem,
        dev.renewal.events.RevocationReason reason,
        Optional<KeyPair> certificateKey) {
      throw new AssertionError("unexpected revocation");
    }

    @Override
    public synchronized IssuedCertificate download(CaProfile profile, String orderUrl) {
      calls.add("download");
      return new IssuedCertificate(
          ORDER + "/cert",
          "LEAF\nISSUER\n",
          "LEAF\n",
          "ISSUER\n",
          List.of(),
          "abc123",
          Instant.parse("2026-11-27T00:00:00Z"),
          Instant.parse("2027-02-25T00:00:00Z"),
          "CN=Pebble Intermediate",
          List.of("shop.example"),
          "aki.serial");
    }
  }

  static OrderView status(AcmeStatus s) {
    return new OrderView(
        s, Optional.of(s.toString().toLowerCase()), Optional.empty(), Optional.empty());
  }

  static OrderReady ready() {
    RenewalRequested request =
        RenewalRequested.newBuilder()
            .setEventId("e")
            .setRequestId(ID)
            .setOccurredAt(Instant.EPOCH)
            .setCertificateName("shop")
            .setDnsNames(List.of("shop.example"))
            .setCaProfile("pebble")
            .build();
    OrderPlaced placed =
        OrderPlaced.newBuilder()
            .setEventId("p")
            .setRequestId(ID)
            .setOccurredAt(Instant.EPOCH)
            .setRequest(request)
            .setAccountUrl("https://ca.example/acct/1")
            .setOrderUrl(ORDER)
            .setFinalizeUrl(ORDER + "/finalize")
            .setAuthorizationUrls(List.of())
            .setOrderStatus(AcmeStatus.READY)
            .build();
    return OrderReady.newBuilder()
        .setEventId("r")
        .setRequestId(ID)
        .setOccurredAt(Instant.EPOCH)
        .setPlaced(placed)
        .build();
  }

  private <T extends SpecificRecord> List<T> sent(String topic, Class<T> type) {
    return fx.sent(topic, type);
  }

  private void awaitOutcome() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (sent("certificate.issued", CertificateIssued.class).isEmpty()
        && sent("renewal.failed", RenewalFailed.class).isEmpty()
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
  }

  @Test
  void aReadyOrderIsFinalizedOncePolledWhileProcessingAndDownloaded() throws Exception {
    ca.statuses.addAll(
        List.of(
            status(AcmeStatus.READY),
            status(AcmeStatus.PROCESSING),
            status(AcmeStatus.PROCESSING),
            status(AcmeStatus.VALID)));
    handler(Duration.ofMinutes(1)).handle(ID, ready()).get();
    awaitOutcome();
    assertThat(ca.calls.stream().filter("finalize"::equals)).hasSize(1);
    assertThat(ca.calls).endsWith("download");
    CertificateIssued issued = sent("certificate.issued", CertificateIssued.class).get(0);
    assertThat(issued.getSerialNumber()).isEqualTo("abc123");
    assertThat(issued.getKeyRef()).isEqualTo("shop/" + ID + ".key");
    assertThat(Files.readString(dir.resolve("out/shop/fullchain.pem"))).isEqualTo("LEAF\nISSUER\n");
    assertThat(Files.readString(dir.resolve("out/shop/privkey.pem"))).contains("PRIVATE KEY");
    assertThat(Files.exists(dir.resolve("keys/shop/" + ID + ".key"))).isTrue();
  }

  @Test
  void theFinalizeCallDoesNotWaitForTheFinalizingRecordWhichStillPrecedesDone() throws Exception {
    // Sends complete only when this test says so.
    fx.completeSendsByHand();
    MockProducer<byte[], byte[]> producer = fx.producer();
    ca.statuses.addAll(List.of(status(AcmeStatus.READY), status(AcmeStatus.VALID)));
    CompletableFuture<Void> handled = handler(Duration.ofMinutes(1)).handle(ID, ready());
    assertThat(producer.completeNext()).as("the NEW record").isTrue();
    handled.get(5, TimeUnit.SECONDS);

    // FINALIZING is sent and not acknowledged: the finalize call goes ahead all the same.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!finalizeCalled() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(finalizeCalled()).isTrue();
    assertThat(sent("acme.finalize.records", FinalizeRecord.class))
        .extracting(FinalizeRecord::getState)
        .containsExactly(FinalizeState.NEW, FinalizeState.FINALIZING);

    // Acknowledged from here on: the certificate is announced and the record ends DONE, after
    // FINALIZING.
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (sent("acme.finalize.records", FinalizeRecord.class).size() < 3
        && System.nanoTime() < deadline) {
      producer.completeNext();
      Thread.sleep(5);
    }
    while (producer.completeNext()) {
      // the rest
    }
    assertThat(sent("certificate.issued", CertificateIssued.class)).hasSize(1);
    assertThat(sent("acme.finalize.records", FinalizeRecord.class))
        .extracting(FinalizeRecord::getState)
        .containsExactly(FinalizeState.NEW, FinalizeState.FINALIZING, FinalizeState.DONE);
  }

  private boolean finalizeCalled() {
    synchronized (ca) {
      return ca.calls.contains("finalize");
    }
  }

  @Test
  void anOrderAlreadyValidIsDownloadedWithoutASecondFinalize() throws Exception {
    ca.statuses.add(status(AcmeStatus.VALID));
    handler(Duration.ofMinutes(1)).handle(ID, ready()).get();
    awaitOutcome();
    assertThat(ca.calls).containsExactly("fetch", "download");
    assertThat(sent("certificate.issued", CertificateIssued.class)).hasSize(1);
  }

  @Test
  void anOrderNotYetReadyIsPolledUntilReadyThenFinalized() throws Exception {
    ca.statuses.addAll(
        List.of(
            status(AcmeStatus.PENDING),
            status(AcmeStatus.PENDING),
            status(AcmeStatus.READY),
            status(AcmeStatus.VALID)));
    handler(Duration.ofMinutes(1)).handle(ID, ready()).get();
    awaitOutcome();
    assertThat(ca.calls)
        .containsSubsequence("fetch", "fetch", "fetch", "finalize", "fetch", "download");
    assertThat(sent("certificate.issued", CertificateIssued.class)).hasSize(1);
  }

  @Test
  void orderNotReadyOnFinalizeIsPolledAndFinalizedAgain() throws Exception {
    ca.statuses.addAll(
        List.of(status(AcmeStatus.READY), status(AcmeStatus.READY), status(AcmeStatus.VALID)));
    ca.finalizeErrors.add(
        new RuntimeException(
            new AcmeServerException(
                new org.shredzone.acme4j.Problem(
                    JSON.parse(
                        "{\"type\":\"urn:ietf:params:acme:error:orderNotReady\",\"status\":403}"),
                    new URL(ORDER)))));
    handler(Duration.ofMinutes(1)).handle(ID, ready()).get();
    awaitOutcome();
    assertThat(ca.calls.stream().filter("finalize"::equals)).hasSize(2);
    assertThat(sent("certificate.issued", CertificateIssued.class)).hasSize(1);
    assertThat(sent("renewal.failed", RenewalFailed.class)).isEmpty();
  }

  @Test
  void aFinalizeWhoseAnswerIsGarbledIsNotSentAgainAndTheOrderReadAgainIsDownloaded()
      throws Exception {
    // The CA accepted the finalize and issued; its answer was cut off halfway.
    ca.statuses.addAll(List.of(status(AcmeStatus.READY), status(AcmeStatus.VALID)));
    ca.finalizeErrors.add(
        new RuntimeException(
            new org.shredzone.acme4j.exception.AcmeProtocolException(
                "Unexpected end of JSON", new java.io.EOFException())));
    handler(Duration.ofMinutes(1)).handle(ID, ready()).get();
    awaitOutcome();
    assertThat(ca.calls.stream().filter("finalize"::equals)).hasSize(1);
    assertThat(ca.calls).contains("download");
    assertThat(sent("certificate.issued", CertificateIssued.class)).hasSize(1);
    assertThat(sent("renewal.failed", RenewalFailed.class)).isEmpty();
  }

  @Test
  void aFinalizeRefusedWhileTheOrderStaysReadyFailsWithTheRefusalAfterOneMoreRead()
      throws Exception {
    ca.statuses.add(status(AcmeStatus.READY));
    ca.finalizeErrors.add(
        HandlerFixture.caError(
            "{\"type\":\"urn:ietf:params:acme:error:badCSR\",\"detail\":\"key too weak\",\"status\":400}"));
    handler(Duration.ofMinutes(1)).handle(ID, ready()).get();
    awaitOutcome();
    assertThat(ca.calls).containsExactly("fetch", "finalize", "fetch");
    RenewalFailed f = sent("renewal.failed", RenewalFailed.class).get(0);
    assertThat(f.getProblem().getType()).isEqualTo("urn:ietf:params:acme:error:badCSR");
    assertThat(f.getRetryable()).isFalse();
  }

  @Test
  void anInvalidOrderFailsWithItsError() throws Exception {
    ca.statuses.add(
        new OrderView(
            AcmeStatus.INVALID,
            Optional.of("invalid"),
            Optional.of(
                Problem.newBuilder()
                    .setType("urn:ietf:params:acme:error:badCSR")
                    .setDetail("bad key")
                    .build()),
            Optional.empty()));
    handler(Duration.ofMinutes(1)).handle(ID, ready()).get();
    awaitOutcome();
    RenewalFailed f = sent("renewal.failed", RenewalFailed.class).get(0);
    assertThat(f.getStage()).isEqualTo(Stage.FINALIZATION);
    assertThat(f.getProblem().getType()).isEqualTo("urn:ietf:params:acme:error:badCSR");
    assertThat(f.getRetryable()).isFalse();
  }

  @Test
  void anOrderStillProcessingAtItsDeadlineFailsRetryable() throws Exception {
    ca.statuses.addAll(List.of(status(AcmeStatus.READY), status(AcmeStatus.PROCESSING)));
    handler(Duration.ofMillis(300)).handle(ID, ready()).get();
    awaitOutcome();
    RenewalFailed f = sent("renewal.failed", RenewalFailed.class).get(0);
    assertThat(f.getProblem().getType())
        .as(f.getProblem().getDetail())
        .isEqualTo("urn:renewal:problem:order-timeout");
    assertThat(f.getRetryable()).isTrue();
    assertThat(sent("certificate.issued", CertificateIssued.class)).isEmpty();
  }
}
