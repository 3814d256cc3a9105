package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.contract.SampleEvents;
import dev.renewal.events.AttemptOutcome;
import dev.renewal.events.CurrentCertificate;
import dev.renewal.events.DueReason;
import dev.renewal.events.ManagedCertificate;
import dev.renewal.events.RenewalAttempt;
import dev.renewal.events.RenewalInfoObserved;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What `renewal certificates` says of a certificate's next renewal and its CA. */
class CertificatesCommandTest {
  private static final Instant NOW = Instant.parse("2026-12-02T10:00:00Z");

  private static ManagedCertificate.Builder certificate() {
    return ManagedCertificate.newBuilder()
        .setCertificateName("shop")
        .setManaged(true)
        .setRequest(SampleEvents.request())
        .setCurrent(
            CurrentCertificate.newBuilder()
                .setRequestId("r1")
                .setSerialNumber("0a")
                .setNotBefore(NOW.minus(Duration.ofDays(60)))
                .setNotAfter(NOW.plus(Duration.ofDays(30)))
                .setIssuer("CN=test")
                .setCaProfile("backup")
                .build())
        .setAttempts(new ArrayList<>())
        .setUpdatedAt(NOW);
  }

  @Test
  void aRetryAFallbackAndAWindowSayWhereAndWhy() {
    ManagedCertificate retry =
        certificate()
            .setNextRenewalAt(NOW.plus(Duration.ofMinutes(52)))
            .setNextRenewalReason(DueReason.RETRY)
            .setNextRenewalProfile("pebble")
            .build();
    assertThat(CertificatesCommand.next(retry, NOW)).endsWith("(in 52m 0s, retry on pebble)");
    ManagedCertificate fallback =
        certificate()
            .setNextRenewalAt(NOW)
            .setNextRenewalReason(DueReason.FALLBACK)
            .setNextRenewalProfile("backup")
            .build();
    assertThat(CertificatesCommand.next(fallback, NOW)).endsWith("fallback to backup)");
    ManagedCertificate window =
        certificate()
            .setNextRenewalAt(NOW.plus(Duration.ofDays(2)))
            .setNextRenewalReason(DueReason.ARI_WINDOW)
            .setRenewalInfo(
                RenewalInfoObserved.newBuilder()
                    .setEventId("e")
                    .setOccurredAt(NOW)
                    .setCertificateName("shop")
                    .setCaProfile("backup")
                    .setSerialNumber("0a")
                    .setAriCertId("a.b")
                    .setNextFetchAt(NOW.plus(Duration.ofHours(6)))
                    .build())
            .build();
    assertThat(CertificatesCommand.next(window, NOW)).endsWith("(in 2d 0h, ari_window of backup)");
    assertThat(CertificatesCommand.issuedBy(window)).isEqualTo("backup");
  }

  @Test
  void aFailureThatIsNotRetriedSaysWhatToDo() {
    ManagedCertificate failing =
        certificate()
            .setAttempts(
                List.of(
                    RenewalAttempt.newBuilder()
                        .setRequestId("r2")
                        .setOutcome(AttemptOutcome.FAILED)
                        .setOutcomeAt(NOW)
                        .build()))
            .build();
    assertThat(CertificatesCommand.next(failing, NOW))
        .isEqualTo("failing, not retried: renewal renew shop to try again");
  }

  @Test
  void aRevokedCurrentCertificateShowsRevokedWhereItsExpiryWas() {
    assertThat(CertificatesCommand.expires(certificate().build(), NOW)).isEqualTo("in 30d 0h");
    ManagedCertificate revoked =
        certificate()
            .setRevocations(
                List.of(
                    dev.renewal.events.RevocationRecord.newBuilder()
                        .setSerialNumber("0a")
                        .setRequestId("r1")
                        .setReason(dev.renewal.events.RevocationReason.CESSATION_OF_OPERATION)
                        .setRevokedAt(NOW)
                        .build()))
            .build();
    assertThat(CertificatesCommand.expires(revoked, NOW))
        .isEqualTo("REVOKED (cessationOfOperation)");
  }
}
