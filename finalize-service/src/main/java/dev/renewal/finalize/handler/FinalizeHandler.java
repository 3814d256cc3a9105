package dev.renewal.finalize.handler;

import dev.renewal.acme.AcmeFailure;
import dev.renewal.acme.CaCallFailure;
import dev.renewal.acme.CaCalls;
import dev.renewal.acme.CaProfile;
import dev.renewal.acme.CaProfiles;
import dev.renewal.acme.PollPolicy;
import dev.renewal.acme.PostAttempts;
import dev.renewal.contract.RenewalFailures;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.FinalizeRecord;
import dev.renewal.events.FinalizeState;
import dev.renewal.events.OrderReady;
import dev.renewal.events.Problem;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.Stage;
import dev.renewal.finalize.acme.FinalizeGateway;
import dev.renewal.finalize.acme.IssuedCertificate;
import dev.renewal.finalize.acme.OrderView;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.topics.CompactedStore;
import dev.renewal.topics.Ownership;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.Topics;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes an order whose authorizations are valid to an issued certificate, one CA call at a time,
 * outside the Streams transaction. Each step re-reads the order (authoritative) and acts on its
 * status: {@code ready} → finalize (state FINALIZING recorded alongside); {@code pending} → poll
 * (the authorizations are valid but the order is not ready yet, ACME-QUIRKS case 4); {@code
 * processing} → poll, honouring Retry-After (case 3); {@code valid} → download, never a second
 * finalize (case 5); {@code invalid} → RenewalFailed with the order's error. {@code orderNotReady}
 * on finalize → poll until ready, then finalize again. After a crash the record resumes the order:
 * a finalize is sent only while the CA still says {@code ready}, so at most one certificate is
 * issued per order.
 */
public final class FinalizeHandler {
  private static final Logger LOGGER = LoggerFactory.getLogger(FinalizeHandler.class);

  private final CaProfiles profiles;
  private final CaCalls ca;
  private final FinalizeGateway gateway;
  private final CompactedStore<FinalizeRecord> records;
  private final CertificateKeys keys;
  private final CertificateFiles files;
  private final Publisher publisher;
  private final Topics topics;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final PollPolicy poll;
  private final ServiceMetrics metrics;

  /** Finalizes that failed, by request id, until the order is read again and decides. */
  private final PostAttempts finalizeTries = new PostAttempts();

  /**
   * Which flow owns each order here (a generation per start or resume); a flow no longer the owner
   * does nothing more. Its size: the orders being finalized now (recorded, not yet done).
   */
  private final Ownership owners;

  public FinalizeHandler(
      CaProfiles profiles,
      CaCalls ca,
      FinalizeGateway gateway,
      CompactedStore<FinalizeRecord> records,
      CertificateKeys keys,
      CertificateFiles files,
      Publisher publisher,
      Topics topics,
      Clock clock,
      ScheduledExecutorService scheduler,
      PollPolicy poll,
      ServiceMetrics metrics) {
    this.profiles = profiles;
    this.ca = ca;
    this.gateway = gateway;
    this.records = records;
    this.keys = keys;
    this.files = files;
    this.publisher = publisher;
    this.topics = topics;
    this.clock = clock;
    this.scheduler = scheduler;
    this.poll = poll;
    this.metrics = metrics;
    this.owners = new Ownership(records::partitionOf);
    metrics.inFlight("orders", owners::size);
  }

  private void count(String name) {
    metrics.count(name);
  }

  /** Records the order and starts finalizing it; completes once the record is written. */
  public CompletableFuture<Void> handle(String key, OrderReady ready) {
    count("orders.received");
    String id = ready.getRequestId();
    Optional<FinalizeRecord> existing = records.get(id);
    if (existing.isPresent()
        && existing.get().getOrderUrl().equals(ready.getPlaced().getOrderUrl())) {
      count("orders.duplicate");
      return CompletableFuture.completedFuture(null);
    }
    RenewalRequested request = ready.getPlaced().getRequest();
    Optional<CaProfile> profile = profiles.get(request.getCaProfile());
    if (profile.isEmpty()) {
      return fail(
          ready,
          problem(
              "urn:renewal:problem:unknown-ca-profile",
              "CA profile '" + request.getCaProfile() + "' is not configured in finalize-service"),
          false);
    }
    FinalizeRecord record =
        FinalizeRecord.newBuilder()
            .setRequestId(id)
            .setOrderUrl(ready.getPlaced().getOrderUrl())
            .setReady(ready)
            .setState(FinalizeState.NEW)
            .setKeyRef(
                request.getCsrPem() == null
                    ? CertificateKeys.reference(
                        request.getCertificateName(), id, request.getKeyPolicy())
                    : null)
            .setDeadline(clock.instant().plus(profile.get().orderDeadline()))
            .setUpdatedAt(clock.instant())
            .build();
    long gen = owners.own(id);
    return records.put(id, record).thenRun(() -> step(id, gen, 1));
  }

  /** Resumes every order of {@code loaded} that is not done. */
  public void resume(Map<String, FinalizeRecord> loaded) {
    loaded.forEach(
        (id, r) -> {
          if (r.getState() != FinalizeState.DONE) {
            count("orders.resumed");
            long gen = owners.own(id);
            LOGGER.info(
                "resuming finalization: requestId={} order={} state={}",
                id,
                r.getOrderUrl(),
                r.getState());
            step(id, gen, 1);
          }
        });
  }

  /** Stops the work of orders in partitions this instance no longer owns. */
  public void cancel(java.util.Collection<Integer> partitions) {
    owners.revoke(partitions).forEach(finalizeTries::forget);
  }

  /** The record, its profile, and the generation of the flow working on it. */
  private record Context(FinalizeRecord record, CaProfile profile, long gen) {
    String id() {
      return record.getRequestId();
    }

    RenewalRequested request() {
      return record.getReady().getPlaced().getRequest();
    }
  }

  /** The order's current context, or empty once flow {@code gen} no longer owns it. */
  private Optional<Context> context(String id, long gen) {
    if (!owners.owns(id, gen)) {
      return Optional.empty();
    }
    return records
        .get(id)
        .filter(r -> r.getState() != FinalizeState.DONE)
        .map(
            r ->
                new Context(
                    r,
                    profiles
                        .get(r.getReady().getPlaced().getRequest().getCaProfile())
                        .orElseThrow(),
                    gen));
  }

  private void step(String id, long gen, int pollNumber) {
    Optional<Context> ctx = context(id, gen);
    if (ctx.isEmpty()) {
      return;
    }
    Context c = ctx.get();
    if (clock.instant().isAfter(c.record().getDeadline())) {
      fail(
          c,
          problem(
              "urn:renewal:problem:order-timeout",
              "the order was not valid by its deadline " + c.record().getDeadline()),
          true);
      return;
    }
    call(
        c,
        () -> gateway.fetch(c.profile(), c.record().getOrderUrl()),
        view -> onOrder(c, view, pollNumber));
  }

  private void onOrder(Context c, OrderView view, int pollNumber) {
    switch (view.status()) {
      case VALID -> download(c);
      case READY -> {
        Optional<Problem> refused = finalizeTries.refused(c.id());
        if (refused.isPresent()) {
          // Refused, and read again still ready: the refusal stands.
          fail(c, refused.get(), false);
        } else {
          finalizeOrder(c);
        }
      }
      case INVALID ->
          fail(
              c,
              view.error()
                  .orElse(
                      problem(
                          "urn:renewal:problem:order-invalid", "the CA marked the order invalid")),
              false);
      default ->
          later(c, poll.next(pollNumber, view.retryAfter(), clock.instant()), pollNumber + 1);
    }
  }

  /** Steps again after {@code delay}: a scheduled task, no CA slot or thread held meanwhile. */
  private void later(Context c, Duration delay, int pollNumber) {
    if (!owns(c)) {
      return;
    }
    count("orders.polled");
    scheduler.schedule(
        () -> step(c.id(), c.gen(), pollNumber), delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Whether {@code c}'s flow still owns its order here. */
  private boolean owns(Context c) {
    return owners.owns(c.id(), c.gen());
  }

  private void finalizeOrder(Context c) {
    RenewalRequested request = c.request();
    // FINALIZING tells operators that a finalize is being sent; a resume does not need it (it
    // re-reads the order, and finalizes only while the CA says ready), so the CA call does not
    // wait for the broker. The record's later changes queue behind it (CompactedStore.update).
    update(c.id(), r -> FinalizeRecord.newBuilder(r).setState(FinalizeState.FINALIZING).build())
        .whenComplete(
            (v, e) -> {
              if (e != null) {
                LOGGER.warn(
                    "could not record FINALIZING (the finalization goes on): requestId={}: {}",
                    c.id(),
                    e.toString());
              }
            });
    // Sent once: a lost, garbled or refused answer is followed by reading the order again, which
    // decides (processing or valid: the CA acted on it; still ready: send it again, or let the
    // refusal stand). Never a blind second finalize: at most one certificate per order.
    ca.once(
            c.profile(),
            () -> {
              if (request.getCsrPem() != null) {
                gateway.finalizeWithCsr(
                    c.profile(), c.record().getOrderUrl(), csrDer(request.getCsrPem()));
              } else {
                gateway.finalizeWithKey(
                    c.profile(),
                    c.record().getOrderUrl(),
                    keys.loadOrCreate(c.record().getKeyRef(), request.getKeyType()));
              }
              return Boolean.TRUE;
            })
        .whenComplete(
            (done, error) -> {
              if (error != null) {
                finalizeFailed(c, CaCallFailure.of(error).failure());
                return;
              }
              finalizeTries.forget(c.id());
              count("orders.finalized");
              LOGGER.info(
                  "order finalized: requestId={} order={}", c.id(), c.record().getOrderUrl());
              later(c, poll.initial(), 1);
            });
  }

  private void finalizeFailed(Context c, AcmeFailure failure) {
    if (failure.problem().getType().endsWith(":orderNotReady")) {
      // RFC 8555 section 7.4: the order is not ready yet; poll it until it is (case 4).
      count("finalize.order.not.ready");
      later(c, poll.initial(), 1);
      return;
    }
    Optional<Duration> next = finalizeTries.failed(c.id(), failure, c.profile(), clock.instant());
    if (next.isEmpty()) {
      fail(c, failure.problem(), true);
      return;
    }
    Duration delay = next.get();
    if (failure.kind().retryable()) {
      ca.retrying(failure);
    }
    LOGGER.info(
        "the finalize failed; reading the order again, which decides: requestId={} kind={}"
            + " problem={} delayMs={}",
        c.id(),
        failure.kind(),
        failure.problem().getType(),
        delay.toMillis());
    later(c, delay, 1);
  }

  private static byte[] csrDer(String pem) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      return ((PKCS10CertificationRequest) parser.readObject()).getEncoded();
    } catch (IOException | ClassCastException e) {
      throw new IllegalStateException("the request's CSR cannot be read: " + e, e);
    }
  }

  private void download(Context c) {
    call(c, () -> gateway.download(c.profile(), c.record().getOrderUrl()), cert -> issue(c, cert));
  }

  private void issue(Context c, IssuedCertificate cert) {
    if (!owns(c)) {
      return;
    }
    RenewalRequested request = c.request();
    String keyRef = c.record().getKeyRef();
    Path folder =
        files.write(
            request.getCertificateName(),
            cert.leafPem(),
            cert.issuersPem(),
            cert.chainPem(),
            keyRef == null ? null : keys.privatePem(keyRef, request.getKeyType()));
    CertificateIssued issued =
        CertificateIssued.newBuilder()
            .setEventId(UUID.randomUUID().toString())
            .setRequestId(c.id())
            .setOccurredAt(clock.instant())
            .setCertificateName(request.getCertificateName())
            .setOrderUrl(c.record().getOrderUrl())
            .setCertificateUrl(cert.certificateUrl())
            .setChainPem(cert.chainPem())
            .setAlternateChains(cert.alternateChainsPem())
            .setSerialNumber(cert.serialNumber())
            .setNotBefore(cert.notBefore())
            .setNotAfter(cert.notAfter())
            .setIssuer(cert.issuer())
            .setDnsNames(cert.dnsNames())
            .setAriCertId(cert.ariCertId())
            .setKeyRef(keyRef)
            .setAttempt(request.getAttempt())
            .setManaged(request.getManaged())
            .setCaProfile(request.getCaProfile())
            .build();
    publisher
        .send(topics.certificateIssued, c.id(), issued)
        .thenCompose(
            v ->
                update(
                    c.id(),
                    r ->
                        FinalizeRecord.newBuilder(r)
                            .setState(FinalizeState.DONE)
                            .setSerialNumber(cert.serialNumber())
                            .setLeafPem(cert.leafPem())
                            .build()))
        .whenComplete(
            (v, e) -> {
              if (e != null) {
                LOGGER.error(
                    "could not announce the certificate; it will be announced on resume: requestId={}",
                    c.id(),
                    e);
                return;
              }
              finalizeTries.forget(c.id());
              count("certificates.issued");
              owners.release(c.id(), c.gen());
              OrderReady ready = c.record().getReady();
              metrics.stageLatency("finalize", ready.getOccurredAt(), issued.getOccurredAt());
              metrics.stageLatency("end_to_end", request.getOccurredAt(), issued.getOccurredAt());
              LOGGER.info(
                  "certificate issued: requestId={} name={} serial={} notAfter={} files={}",
                  c.id(),
                  request.getCertificateName(),
                  cert.serialNumber(),
                  cert.notAfter(),
                  folder);
            });
  }

  /** A CA call through {@link CaCalls}; a call that gives up fails the finalization. */
  private <T> void call(Context c, Supplier<T> operation, Consumer<T> then) {
    ca.call(c.profile(), operation)
        .whenComplete(
            (value, error) -> {
              if (error == null) {
                then.accept(value);
                return;
              }
              AcmeFailure failure = CaCallFailure.of(error).failure();
              if (failure.problem().getType().endsWith(":orderNotReady")) {
                // RFC 8555 section 7.4: the order is not ready yet; poll it until it is (case 4).
                count("finalize.order.not.ready");
                later(c, poll.initial(), 1);
                return;
              }
              fail(c, failure.problem(), failure.kind().retryable());
            });
  }

  /** The same for {@code c}'s order, unless its flow no longer owns it. */
  private void fail(Context c, Problem problem, boolean retryable) {
    if (owns(c)) {
      owners.release(c.id(), c.gen());
      fail(c.record().getReady(), problem, retryable);
    }
  }

  /** The failure event, then the record marked done (nothing more is asked of the CA). */
  private CompletableFuture<Void> fail(OrderReady ready, Problem problem, boolean retryable) {
    String id = ready.getRequestId();
    finalizeTries.forget(id);
    return ca.fail(
            ready.getPlaced().getRequest(),
            Stage.FINALIZATION,
            problem,
            retryable,
            ready.getPlaced().getOrderUrl(),
            null)
        .thenCompose(
            v ->
                records.get(id).isPresent()
                    ? update(
                        id, r -> FinalizeRecord.newBuilder(r).setState(FinalizeState.DONE).build())
                    : CompletableFuture.completedFuture(null));
  }

  private CompletableFuture<Void> update(
      String id, java.util.function.UnaryOperator<FinalizeRecord> change) {
    return records.update(id, change);
  }

  private static Problem problem(String type, String detail) {
    return RenewalFailures.problem(type, detail);
  }
}
