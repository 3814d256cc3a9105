package dev.renewal.contract;

import dev.renewal.events.AcmeStatus;
import dev.renewal.events.AuthorizationObserved;
import dev.renewal.events.AuthorizationReconciled;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.ChallengeObserved;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.Decision;
import dev.renewal.events.KeyType;
import dev.renewal.events.ObservationSource;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.Problem;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.Stage;
import dev.renewal.events.Subproblem;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/** One fully populated instance of every event, for round-trip tests. */
public final class SampleEvents {
  public static final String REQUEST_ID = "7f8a1a52-5c0e-4a55-9a44-0a4c6a0d7e11";
  public static final String ORDER_URL = "https://127.0.0.1:14000/my-order/abc";
  public static final String AUTHZ_URL = "https://127.0.0.1:14000/authZ/xyz";
  private static final Instant AT = Instant.parse("2026-11-27T03:00:00.123Z");

  private SampleEvents() {}

  public static RenewalRequested request() {
    return RenewalRequested.newBuilder()
        .setEventId("e-1")
        .setRequestId(REQUEST_ID)
        .setOccurredAt(AT)
        .setCertificateName("shop")
        .setDnsNames(List.of("shop.example", "www.shop.example"))
        .setChallengeType(ChallengeType.DNS_01)
        .setCaProfile("pebble")
        .setKeyType(KeyType.EC_P384)
        .setReplaces("aki.serial")
        .setAttempt(2)
        .setReplayOf("failure-event-1")
        .setLabels(Map.of("team", "web"))
        .build();
  }

  public static Problem problem() {
    return Problem.newBuilder()
        .setType("urn:ietf:params:acme:error:unauthorized")
        .setTitle("Unauthorized")
        .setDetail("token mismatch")
        .setStatus(403)
        .setIdentifier("shop.example")
        .setSubproblems(
            List.of(
                Subproblem.newBuilder()
                    .setType("urn:ietf:params:acme:error:dns")
                    .setDetail("SERVFAIL")
                    .setIdentifier("www.shop.example")
                    .build()))
        .build();
  }

  public static OrderPlaced orderPlaced() {
    return OrderPlaced.newBuilder()
        .setEventId("e-2")
        .setRequestId(REQUEST_ID)
        .setOccurredAt(AT)
        .setRequest(request())
        .setAccountUrl("https://127.0.0.1:14000/my-account/1")
        .setOrderUrl(ORDER_URL)
        .setFinalizeUrl(ORDER_URL + "/finalize")
        .setAuthorizationUrls(List.of(AUTHZ_URL, AUTHZ_URL + "2"))
        .setOrderStatus(AcmeStatus.PENDING)
        .setRawStatus("pending")
        .setExpires(AT.plusSeconds(3600))
        .build();
  }

  public static ChallengeObserved challengeObserved() {
    return ChallengeObserved.newBuilder()
        .setEventId("e-3")
        .setRequestId(REQUEST_ID)
        .setOccurredAt(AT)
        .setOrderUrl(ORDER_URL)
        .setAuthorizationUrl(AUTHZ_URL)
        .setChallengeUrl(AUTHZ_URL + "/chal")
        .setChallengeType(ChallengeType.HTTP_01)
        .setIdentifier("shop.example")
        .setStatus(AcmeStatus.INVALID)
        .setRawStatus("invalid")
        .setSource(ObservationSource.TRIGGER_RESPONSE)
        .setProblem(problem())
        .setRetryAfter(AT.plusSeconds(5))
        .build();
  }

  public static AuthorizationObserved authorizationObserved() {
    return AuthorizationObserved.newBuilder()
        .setEventId("e-4")
        .setRequestId(REQUEST_ID)
        .setOccurredAt(AT)
        .setOrderUrl(ORDER_URL)
        .setAuthorizationUrl(AUTHZ_URL)
        .setIdentifier("shop.example")
        .setWildcard(false)
        .setStatus(AcmeStatus.VALID)
        .setRawStatus("valid")
        .setSource(ObservationSource.POLL)
        .setExpires(AT.plusSeconds(86400))
        .setReused(true)
        .build();
  }

  public static AuthorizationReconciled authorizationReconciled() {
    return AuthorizationReconciled.newBuilder()
        .setEventId("e-5")
        .setRequestId(REQUEST_ID)
        .setOccurredAt(AT)
        .setOrderUrl(ORDER_URL)
        .setAuthorizationUrl(AUTHZ_URL)
        .setIdentifier("shop.example")
        .setDecision(Decision.VALID)
        .setReason("authorization valid although the challenge answered invalid")
        .setContradiction(true)
        .setChallengeStatus(AcmeStatus.INVALID)
        .setAuthorizationStatus(AcmeStatus.VALID)
        .build();
  }

  public static CertificateIssued certificateIssued() {
    return CertificateIssued.newBuilder()
        .setEventId("e-6")
        .setRequestId(REQUEST_ID)
        .setOccurredAt(AT)
        .setCertificateName("shop")
        .setOrderUrl(ORDER_URL)
        .setCertificateUrl(ORDER_URL + "/cert")
        .setChainPem("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        .setAlternateChains(
            List.of("-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n"))
        .setSerialNumber("0a1b2c")
        .setNotBefore(AT)
        .setNotAfter(AT.plusSeconds(90L * 86400))
        .setIssuer("CN=Pebble Intermediate CA")
        .setDnsNames(List.of("shop.example", "www.shop.example"))
        .setAriCertId("aki.serial")
        .setKeyRef("keys/shop/7f8a.pem")
        .setAttempt(2)
        .build();
  }

  public static RenewalFailed renewalFailed() {
    return RenewalFailed.newBuilder()
        .setEventId("e-7")
        .setRequestId(REQUEST_ID)
        .setOccurredAt(AT)
        .setStage(Stage.AUTHORIZATION)
        .setProblem(problem())
        .setRetryable(false)
        .setOrderUrl(ORDER_URL)
        .setAuthorizationUrl(AUTHZ_URL)
        .setRequest(request())
        .build();
  }

  /** One of each event type, in {@link EventTypes#ALL} order. */
  public static List<SpecificRecord> all() {
    return List.of(
        request(),
        orderPlaced(),
        challengeObserved(),
        authorizationObserved(),
        authorizationReconciled(),
        certificateIssued(),
        renewalFailed());
  }
}
