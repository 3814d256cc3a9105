package dev.renewal.finalize.handler;

import dev.renewal.acme.AcmeFailure;
import dev.renewal.acme.CaCallFailure;
import dev.renewal.acme.CaCalls;
import dev.renewal.acme.CaProfile;
import dev.renewal.acme.CaProfiles;
import dev.renewal.contract.RenewalFailures;
import dev.renewal.events.CertificateRevoked;
import dev.renewal.events.FinalizeRecord;
import dev.renewal.events.Problem;
import dev.renewal.events.RevocationFailed;
import dev.renewal.events.RevocationReason;
import dev.renewal.events.RevocationRequested;
import dev.renewal.finalize.acme.FinalizeGateway;
import dev.renewal.finalize.acme.FinalizeGateway.Revocation;
import dev.renewal.finalize.domain.RevocationStep;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.topics.CompactedStore;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.Topics;
import java.security.KeyPair;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out a {@link RevocationRequested} (RFC 8555 section 7.6): {@link RevocationStep} decides
 * from the finalization record of its request id; the CA is asked once per try through {@link
 * CaCalls} (a revocation is idempotent: a try after a lost answer is answered {@code
 * alreadyRevoked}, which is success); the outcome is {@code CertificateRevoked} or {@code
 * RevocationFailed}. Without a record of its own: a revocation resumed after a crash or a rebalance
 * is asked again, and answered {@code alreadyRevoked}.
 */
public final class RevocationHandler {
  private static final Logger LOGGER = LoggerFactory.getLogger(RevocationHandler.class);

  private final CaProfiles profiles;
  private final CaCalls ca;
  private final FinalizeGateway gateway;
  private final Lookup records;
  private final CertificateKeys keys;
  private final Publisher publisher;
  private final Topics topics;
  private final Clock clock;
  private final Executor lookups;
  private final ServiceMetrics metrics;

  /**
   * The finalization record of a request id: as this instance loaded it, or read again from {@code
   * acme.finalize.records} (a record written after the load).
   */
  public interface Lookup {
    Optional<FinalizeRecord> get(String requestId);

    Optional<FinalizeRecord> readAgain(String requestId);

    /**
     * {@code store}: finalize-service's records, read (never written) for the partitions of {@code
     * certificate.revocation.requested} this instance owns (co-partitioned by request id).
     */
    static Lookup of(CompactedStore<FinalizeRecord> store) {
      return new Lookup() {
        @Override
        public Optional<FinalizeRecord> get(String requestId) {
          return store.get(requestId);
        }

        @Override
        public Optional<FinalizeRecord> readAgain(String requestId) {
          store.load(List.of(store.partitionOf(requestId)));
          return store.get(requestId);
        }
      };
    }
  }

  /** {@code lookups}: where records are looked up and read again, off the consumer's thread. */
  public RevocationHandler(
      CaProfiles profiles,
      CaCalls ca,
      FinalizeGateway gateway,
      Lookup records,
      CertificateKeys keys,
      Publisher publisher,
      Topics topics,
      Clock clock,
      Executor lookups,
      ServiceMetrics metrics) {
    this.profiles = profiles;
    this.ca = ca;
    this.gateway = gateway;
    this.records = records;
    this.keys = keys;
    this.publisher = publisher;
    this.topics = topics;
    this.clock = clock;
    this.lookups = lookups;
    this.metrics = metrics;
  }

  /** Carries out {@code request}; completes once its outcome is on the log. */
  public CompletableFuture<Void> handle(String key, RevocationRequested request) {
    metrics.count("revocations.received");
    return CompletableFuture.supplyAsync(() -> decide(request), lookups)
        .thenCompose(
            action ->
                action instanceof RevocationStep.Revoke r
                    ? revoke(request, r)
                    : failed(
                        request,
                        ((RevocationStep.Refuse) action).problem(),
                        false,
                        ((RevocationStep.Refuse) action).caProfile()));
  }

  private RevocationStep.Action decide(RevocationRequested request) {
    String id = request.getRequestId() == null ? "" : request.getRequestId();
    Optional<FinalizeRecord> record = id.isBlank() ? Optional.empty() : records.get(id);
    if (!id.isBlank() && RevocationStep.notIssued(request, record).isPresent()) {
      // Maybe issued after this instance loaded the records: read its partition again, once.
      record = records.readAgain(id);
    }
    return RevocationStep.decide(request, record, profiles.names());
  }

  private CompletableFuture<Void> revoke(RevocationRequested request, RevocationStep.Revoke r) {
    CaProfile profile = profiles.get(r.caProfile()).orElseThrow();
    String serial = request.getSerialNumber();
    Optional<KeyPair> certificateKey =
        r.certificateKeyRef().flatMap(ref -> keys.forRevocation(ref, serial));
    return ca.call(
            profile,
            () ->
                gateway.revoke(
                    profile,
                    r.orderUrl(),
                    serial,
                    r.leafPem(),
                    request.getReason(),
                    certificateKey))
        .handle(
            (outcome, error) -> {
              if (error != null) {
                AcmeFailure f = CaCallFailure.of(error).failure();
                return failed(
                    request, f.problem(), f.kind().retryable(), Optional.of(r.caProfile()));
              }
              if (outcome == Revocation.NOT_THIS_CERTIFICATE) {
                return failed(
                    request,
                    RenewalFailures.problem(
                        RevocationStep.UNKNOWN_CERTIFICATE,
                        RevocationStep.notThisSerial(request, null)),
                    false,
                    Optional.of(r.caProfile()));
              }
              boolean retired =
                  request.getReason() == RevocationReason.KEY_COMPROMISE
                      && r.certificateKeyRef().isPresent()
                      && keys.retire(r.certificateKeyRef().get(), serial);
              return revoked(
                  request,
                  r.caProfile(),
                  outcome == Revocation.ALREADY_REVOKED,
                  certificateKey.isPresent(),
                  retired);
            })
        .thenCompose(f -> f);
  }

  private CompletableFuture<Void> revoked(
      RevocationRequested request,
      String profile,
      boolean already,
      boolean signedWithKey,
      boolean retired) {
    CertificateRevoked event =
        CertificateRevoked.newBuilder()
            .setEventId(UUID.randomUUID().toString())
            .setOccurredAt(clock.instant())
            .setRequestId(request.getRequestId())
            .setCertificateName(request.getCertificateName())
            .setSerialNumber(request.getSerialNumber())
            .setReason(request.getReason())
            .setCaProfile(profile)
            .setAlreadyRevoked(already)
            .setSignedWithCertificateKey(signedWithKey)
            .setKeyRetired(retired)
            .setRevocationEventId(request.getEventId())
            .setRequestedBy(request.getRequestedBy())
            .build();
    return publisher
        .send(topics.certificateRevoked, request.getRequestId(), event)
        .thenRun(
            () -> {
              metrics.count(
                  "revocations",
                  "outcome",
                  already ? "already_revoked" : "revoked",
                  "reason",
                  reason(request));
              LOGGER.info(
                  "certificate revoked: name={} serial={} reason={} requestId={} profile={}"
                      + " alreadyRevoked={} signedWithCertificateKey={} keyRetired={}",
                  request.getCertificateName(),
                  request.getSerialNumber(),
                  request.getReason(),
                  request.getRequestId(),
                  profile,
                  already,
                  signedWithKey,
                  retired);
            });
  }

  private CompletableFuture<Void> failed(
      RevocationRequested request, Problem problem, boolean retryable, Optional<String> profile) {
    RevocationFailed event =
        RevocationFailed.newBuilder()
            .setEventId(UUID.randomUUID().toString())
            .setOccurredAt(clock.instant())
            .setRequestId(String.valueOf(request.getRequestId()))
            .setCertificateName(String.valueOf(request.getCertificateName()))
            .setSerialNumber(String.valueOf(request.getSerialNumber()))
            .setReason(request.getReason())
            .setCaProfile(profile.orElse(null))
            .setProblem(problem)
            .setRetryable(retryable)
            .setRevocationEventId(request.getEventId())
            .setRequestedBy(request.getRequestedBy())
            .build();
    return publisher
        .send(topics.revocationFailed, event.getRequestId(), event)
        .thenRun(
            () -> {
              metrics.count("revocations", "outcome", "failed", "reason", reason(request));
              LOGGER.warn(
                  "revocation failed: name={} serial={} requestId={} problem={}: {}",
                  request.getCertificateName(),
                  request.getSerialNumber(),
                  request.getRequestId(),
                  problem.getType(),
                  problem.getDetail());
            });
  }

  private static String reason(RevocationRequested request) {
    return request.getReason().name().toLowerCase(Locale.ROOT);
  }
}
