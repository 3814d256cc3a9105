package dev.renewal.finalize.handler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.acme.CaProfile;
import dev.renewal.acme.CaProfiles;
import dev.renewal.events.CertificateRevoked;
import dev.renewal.events.FinalizeRecord;
import dev.renewal.events.FinalizeState;
import dev.renewal.events.KeyType;
import dev.renewal.events.RevocationFailed;
import dev.renewal.events.RevocationReason;
import dev.renewal.events.RevocationRequested;
import dev.renewal.finalize.acme.FinalizeGateway;
import dev.renewal.finalize.acme.FinalizeGateway.Revocation;
import dev.renewal.finalize.acme.IssuedCertificate;
import dev.renewal.finalize.acme.OrderView;
import dev.renewal.finalize.domain.RevocationStep;
import dev.renewal.finalize.domain.RevocationStepTest;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.testkit.HandlerFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Revocations against a scripted CA that fails on any call it was not told about. */
class RevocationHandlerTest {
  static final String KEY_REF = "shop/req-1.key";

  @TempDir Path dir;
  private final HandlerFixture fx = new HandlerFixture(2);
  private final ScriptedCa ca = new ScriptedCa();
  private final Map<String, FinalizeRecord> loaded = new HashMap<>();
  private final Map<String, FinalizeRecord> onTheTopic = new HashMap<>();
  private final List<String> readAgain = new ArrayList<>();
  private final ServiceMetrics metrics = new ServiceMetrics("finalize-service");
  private CertificateKeys keys;

  @AfterEach
  void stop() {
    fx.close();
  }

  private RevocationHandler handler() {
    CaProfile profile = HandlerFixture.profile(Duration.ofMinutes(1), Duration.ofMinutes(1));
    keys = new CertificateKeys(dir.resolve("keys"));
    return new RevocationHandler(
        CaProfiles.of(profile),
        fx.caCalls(profile, metrics),
        ca,
        new RevocationHandler.Lookup() {
          @Override
          public Optional<FinalizeRecord> get(String id) {
            return Optional.ofNullable(loaded.get(id));
          }

          @Override
          public Optional<FinalizeRecord> readAgain(String id) {
            readAgain.add(id);
            loaded.putAll(onTheTopic);
            return get(id);
          }
        },
        keys,
        fx.publisher(),
        fx.topics(),
        Clock.systemUTC(),
        Executors.newSingleThreadExecutor(),
        metrics);
  }

  /** What the CA answers to each revocation, in order; it records the key each was signed with. */
  static final class ScriptedCa implements FinalizeGateway {
    final Deque<Object> answers = new ArrayDeque<>();
    final List<Optional<KeyPair>> signedWith = new ArrayList<>();
    final List<Optional<String>> leaves = new ArrayList<>();

    @Override
    public synchronized Revocation revoke(
        CaProfile profile,
        String orderUrl,
        String serial,
        Optional<String> leafPem,
        RevocationReason reason,
        Optional<KeyPair> certificateKey) {
      signedWith.add(certificateKey);
      leaves.add(leafPem);
      Object a = answers.poll();
      if (a == null) {
        throw new AssertionError("unexpected revocation");
      }
      if (a instanceof RuntimeException e) {
        throw e;
      }
      return (Revocation) a;
    }

    @Override
    public OrderView fetch(CaProfile profile, String orderUrl) {
      throw new AssertionError("unexpected fetch");
    }

    @Override
    public void finalizeWithKey(CaProfile profile, String orderUrl, KeyPair key) {
      throw new AssertionError("unexpected finalize");
    }

    @Override
    public void finalizeWithCsr(CaProfile profile, String orderUrl, byte[] csrDer) {
      throw new AssertionError("unexpected finalize");
    }

    @Override
    public IssuedCertificate download(CaProfile profile, String orderUrl) {
      throw new AssertionError("unexpected download");
    }
  }

  private void issued(String serial, String keyRef) {
    loaded.put("req-1", RevocationStepTest.record(FinalizeState.DONE, serial, keyRef));
  }

  private RevocationRequested request(RevocationReason reason) {
    return RevocationStepTest.request("abc", reason);
  }

  private void handle(RevocationRequested r) throws Exception {
    handler().handle(r.getRequestId(), r).get(10, TimeUnit.SECONDS);
  }

  private List<CertificateRevoked> revoked() {
    return fx.sent("certificate.revoked", CertificateRevoked.class);
  }

  private List<RevocationFailed> failed() {
    return fx.sent("certificate.revocation.failed", RevocationFailed.class);
  }

  @Test
  void aCertificateTheCaRevokesIsAnnouncedOnceSignedByTheAccount() throws Exception {
    issued("abc", KEY_REF);
    ca.answers.add(Revocation.REVOKED);
    handle(request(RevocationReason.SUPERSEDED));
    assertThat(ca.signedWith).containsExactly(Optional.empty());
    assertThat(ca.leaves)
        .as("the certificate recorded at its issuance")
        .containsExactly(Optional.of("LEAF"));
    CertificateRevoked r = revoked().get(0);
    assertThat(revoked()).hasSize(1);
    assertThat(r.getSerialNumber()).isEqualTo("abc");
    assertThat(r.getReason()).isEqualTo(RevocationReason.SUPERSEDED);
    assertThat(r.getAlreadyRevoked()).isFalse();
    assertThat(r.getRevocationEventId()).isEqualTo("rev-1");
    assertThat(r.getCaProfile()).isEqualTo("pebble");
    assertThat(failed()).isEmpty();
    assertThat(metrics.get("revocations", "outcome", "revoked", "reason", "superseded"))
        .isEqualTo(1);
  }

  @Test
  void alreadyRevokedIsSuccessAndSaysSo() throws Exception {
    issued("abc", null);
    ca.answers.add(Revocation.ALREADY_REVOKED);
    handle(request(RevocationReason.UNSPECIFIED));
    assertThat(revoked())
        .singleElement()
        .satisfies(r -> assertThat(r.getAlreadyRevoked()).isTrue());
    assertThat(failed()).isEmpty();
  }

  @Test
  void aKeyCompromiseIsSignedWithTheCertificatesOwnKeyWhichIsThenNeverUsedAgain() throws Exception {
    issued("abc", KEY_REF);
    RevocationHandler handler = handler();
    KeyPair key = keys.loadOrCreate(KEY_REF, KeyType.EC_P256);
    ca.answers.add(Revocation.REVOKED);
    handler.handle("req-1", request(RevocationReason.KEY_COMPROMISE)).get(10, TimeUnit.SECONDS);

    assertThat(ca.signedWith).hasSize(1);
    assertThat(ca.signedWith.get(0).orElseThrow().getPublic()).isEqualTo(key.getPublic());
    CertificateRevoked r = revoked().get(0);
    assertThat(r.getSignedWithCertificateKey()).isTrue();
    assertThat(r.getKeyRetired()).isTrue();
    assertThat(dir.resolve("keys/" + KEY_REF)).doesNotExist();
    Path retired = dir.resolve("keys/shop/retired/abc.key");
    assertThat(retired).exists();
    assertThat(Files.getPosixFilePermissions(retired))
        .containsExactlyInAnyOrder(
            java.nio.file.attribute.PosixFilePermission.OWNER_READ,
            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
    // the same reference now gets a new key (a replay of the request, or REUSE's next request)
    assertThat(keys.loadOrCreate(KEY_REF, KeyType.EC_P256).getPublic())
        .isNotEqualTo(key.getPublic());

    // asked again: the retired key still signs, and the CA's alreadyRevoked is success
    ca.answers.add(Revocation.ALREADY_REVOKED);
    handler.handle("req-1", request(RevocationReason.KEY_COMPROMISE)).get(10, TimeUnit.SECONDS);
    assertThat(ca.signedWith.get(1).orElseThrow().getPublic()).isEqualTo(key.getPublic());
    assertThat(revoked()).hasSize(2);
    assertThat(revoked().get(1).getAlreadyRevoked()).isTrue();
  }

  @Test
  void aCertificateIssuedAfterTheRecordsWereLoadedIsFoundByReadingThemAgain() throws Exception {
    onTheTopic.put("req-1", RevocationStepTest.record(FinalizeState.DONE, "abc", null));
    ca.answers.add(Revocation.REVOKED);
    handle(request(RevocationReason.UNSPECIFIED));
    assertThat(readAgain).containsExactly("req-1");
    assertThat(revoked()).hasSize(1);
  }

  @Test
  void aCertificateThePipelineDidNotIssueFailsWithTheReasonAndTheCaIsNotAsked() throws Exception {
    handle(request(RevocationReason.UNSPECIFIED));
    assertThat(ca.signedWith).isEmpty();
    RevocationFailed f = failed().get(0);
    assertThat(f.getProblem().getType()).isEqualTo(RevocationStep.UNKNOWN_CERTIFICATE);
    assertThat(f.getProblem().getDetail())
        .isEqualTo("request req-1 has no certificate issued by this pipeline");
    assertThat(f.getRetryable()).isFalse();
    assertThat(f.getCaProfile()).isNull();
    assertThat(revoked()).isEmpty();
  }

  @Test
  void theCasCertificateOfTheOrderWithAnotherSerialIsNotRevoked() throws Exception {
    issued(null, null);
    ca.answers.add(Revocation.NOT_THIS_CERTIFICATE);
    handle(request(RevocationReason.UNSPECIFIED));
    assertThat(ca.leaves)
        .as("recorded before the leaf was: the CA's copy")
        .containsExactly(Optional.empty());
    assertThat(failed().get(0).getProblem().getDetail())
        .isEqualTo("serial abc is not the certificate of request req-1");
    assertThat(revoked()).isEmpty();
  }

  @Test
  void aRefusalOfTheCaIsARevocationFailedWithItsProblem() throws Exception {
    issued("abc", null);
    ca.answers.add(
        HandlerFixture.caError(
            "{\"type\":\"urn:ietf:params:acme:error:unauthorized\",\"detail\":\"not yours\",\"status\":403}"));
    handle(request(RevocationReason.UNSPECIFIED));
    RevocationFailed f = failed().get(0);
    assertThat(f.getProblem().getType()).isEqualTo("urn:ietf:params:acme:error:unauthorized");
    assertThat(f.getProblem().getDetail()).isEqualTo("not yours");
    assertThat(f.getRetryable()).isFalse();
    assertThat(f.getCaProfile()).isEqualTo("pebble");
    assertThat(ca.signedWith).as("a refusal is not retried").hasSize(1);
  }

  @Test
  void aTransientFailureIsRetriedByTheProfilesPolicy() throws Exception {
    issued("abc", null);
    ca.answers.add(
        HandlerFixture.caError(
            "{\"type\":\"urn:ietf:params:acme:error:serverInternal\",\"status\":500}"));
    ca.answers.add(Revocation.REVOKED);
    handle(request(RevocationReason.UNSPECIFIED));
    assertThat(ca.signedWith).hasSize(2);
    assertThat(revoked()).hasSize(1);
    assertThat(failed()).isEmpty();
  }
}
