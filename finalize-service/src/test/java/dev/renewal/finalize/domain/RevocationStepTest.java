package dev.renewal.finalize.domain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.events.FinalizeRecord;
import dev.renewal.events.FinalizeState;
import dev.renewal.events.KeyPolicy;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.OrderReady;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.RevocationReason;
import dev.renewal.events.RevocationRequested;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The table of revocation rules. */
public class RevocationStepTest {
  static final String ID = "req-1";
  static final Set<String> PROFILES = Set.of("pebble");

  public static RevocationRequested request(String serial, RevocationReason reason) {
    return RevocationRequested.newBuilder()
        .setEventId("rev-1")
        .setOccurredAt(Instant.EPOCH)
        .setRequestId(ID)
        .setCertificateName("shop")
        .setSerialNumber(serial)
        .setReason(reason)
        .build();
  }

  public static FinalizeRecord record(FinalizeState state, String serial, String keyRef) {
    RenewalRequested request =
        RenewalRequested.newBuilder()
            .setEventId("e")
            .setRequestId(ID)
            .setOccurredAt(Instant.EPOCH)
            .setCertificateName("shop")
            .setDnsNames(List.of("shop.example"))
            .setCaProfile("pebble")
            .setKeyPolicy(KeyPolicy.ROTATE)
            .build();
    OrderPlaced placed =
        OrderPlaced.newBuilder()
            .setEventId("p")
            .setRequestId(ID)
            .setOccurredAt(Instant.EPOCH)
            .setRequest(request)
            .setAccountUrl("https://ca.example/acct/1")
            .setOrderUrl("https://ca.example/order/1")
            .setFinalizeUrl("https://ca.example/order/1/finalize")
            .setAuthorizationUrls(List.of())
            .setOrderStatus(dev.renewal.events.AcmeStatus.READY)
            .build();
    return FinalizeRecord.newBuilder()
        .setRequestId(ID)
        .setOrderUrl("https://ca.example/order/1")
        .setReady(
            OrderReady.newBuilder()
                .setEventId("r")
                .setRequestId(ID)
                .setOccurredAt(Instant.EPOCH)
                .setPlaced(placed)
                .build())
        .setState(state)
        .setKeyRef(keyRef)
        .setSerialNumber(serial)
        .setLeafPem(serial == null ? null : "LEAF")
        .setDeadline(Instant.EPOCH)
        .setUpdatedAt(Instant.EPOCH)
        .build();
  }

  private static String refusal(RevocationStep.Action a) {
    assertThat(a).isInstanceOf(RevocationStep.Refuse.class);
    return ((RevocationStep.Refuse) a).problem().getType();
  }

  @Test
  void aCertificateIssuedForTheRequestIsRevokedThroughItsProfileWithTheAccount() {
    RevocationStep.Action a =
        RevocationStep.decide(
            request("abc", RevocationReason.SUPERSEDED),
            Optional.of(record(FinalizeState.DONE, "abc", "shop/req-1.key")),
            PROFILES);
    assertThat(a)
        .isEqualTo(
            new RevocationStep.Revoke(
                "pebble", "https://ca.example/order/1", Optional.of("LEAF"), Optional.empty()));
  }

  @Test
  void aKeyCompromiseIsSignedWithTheCertificatesKeyWhenThePipelineHoldsIt() {
    assertThat(
            RevocationStep.decide(
                request("abc", RevocationReason.KEY_COMPROMISE),
                Optional.of(record(FinalizeState.DONE, "abc", "shop/req-1.key")),
                PROFILES))
        .isEqualTo(
            new RevocationStep.Revoke(
                "pebble",
                "https://ca.example/order/1",
                Optional.of("LEAF"),
                Optional.of("shop/req-1.key")));
    // the request brought its own CSR: the pipeline has no key, the account signs
    assertThat(
            RevocationStep.decide(
                request("abc", RevocationReason.KEY_COMPROMISE),
                Optional.of(record(FinalizeState.DONE, "abc", null)),
                PROFILES))
        .isEqualTo(
            new RevocationStep.Revoke(
                "pebble", "https://ca.example/order/1", Optional.of("LEAF"), Optional.empty()));
  }

  @Test
  void whatThePipelineDidNotIssueIsRefusedAndNothingIsSent() {
    RevocationRequested r = request("abc", RevocationReason.UNSPECIFIED);
    assertThat(refusal(RevocationStep.decide(r, Optional.empty(), PROFILES)))
        .isEqualTo(RevocationStep.UNKNOWN_CERTIFICATE);
    assertThat(
            refusal(
                RevocationStep.decide(
                    r, Optional.of(record(FinalizeState.FINALIZING, null, null)), PROFILES)))
        .isEqualTo(RevocationStep.UNKNOWN_CERTIFICATE);
    RevocationStep.Refuse other =
        (RevocationStep.Refuse)
            RevocationStep.decide(
                r, Optional.of(record(FinalizeState.DONE, "def", null)), PROFILES);
    assertThat(other.problem().getType()).isEqualTo(RevocationStep.UNKNOWN_CERTIFICATE);
    assertThat(other.problem().getDetail())
        .isEqualTo(
            "serial abc is not the certificate of request req-1 (its certificate is serial def)");
    RevocationRequested otherName =
        RevocationRequested.newBuilder(r).setCertificateName("blog").build();
    assertThat(
            refusal(
                RevocationStep.decide(
                    otherName, Optional.of(record(FinalizeState.DONE, "abc", null)), PROFILES)))
        .isEqualTo(RevocationStep.UNKNOWN_CERTIFICATE);
  }

  @Test
  void anUnknownReasonAnEmptySerialOrAProfileNotConfiguredAreRefused() {
    Optional<FinalizeRecord> done = Optional.of(record(FinalizeState.DONE, "abc", null));
    assertThat(
            refusal(
                RevocationStep.decide(request("abc", RevocationReason.UNKNOWN), done, PROFILES)))
        .isEqualTo(RevocationStep.BAD_REASON);
    assertThat(
            refusal(
                RevocationStep.decide(request("", RevocationReason.UNSPECIFIED), done, PROFILES)))
        .isEqualTo(RevocationStep.MALFORMED);
    RevocationStep.Refuse noProfile =
        (RevocationStep.Refuse)
            RevocationStep.decide(
                request("abc", RevocationReason.UNSPECIFIED), done, Set.of("letsencrypt"));
    assertThat(noProfile.problem().getType()).isEqualTo(RevocationStep.UNKNOWN_PROFILE);
    assertThat(noProfile.caProfile()).contains("pebble");
  }

  @Test
  void aRecordWithoutASerialIsCheckedAgainstTheCasCertificateInstead() {
    // records written before the serial was recorded: the gateway compares the downloaded one
    assertThat(
            RevocationStep.notIssued(
                request("abc", RevocationReason.UNSPECIFIED),
                Optional.of(record(FinalizeState.DONE, null, null))))
        .isEmpty();
  }
}
