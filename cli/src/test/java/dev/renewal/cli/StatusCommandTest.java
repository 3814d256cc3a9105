package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.contract.SampleEvents;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.Stage;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What `renewal status ID` says a request's outcome is, from its timeline. */
class StatusCommandTest {
  static EventLog.Entry at(int second, org.apache.avro.generic.GenericRecord event) {
    return new EventLog.Entry("t", event, Instant.EPOCH.plusSeconds(second));
  }

  static RenewalRequested request(int attempt) {
    return RenewalRequested.newBuilder(SampleEvents.request()).setAttempt(attempt).build();
  }

  static RenewalFailed failed(int attempt, Stage stage) {
    RenewalRequested request =
        RenewalRequested.newBuilder(SampleEvents.request()).setAttempt(attempt).build();
    return RenewalFailed.newBuilder(SampleEvents.renewalFailed())
        .setRequest(request)
        .setStage(stage)
        .build();
  }

  static CertificateIssued issued(int attempt) {
    return CertificateIssued.newBuilder(SampleEvents.certificateIssued())
        .setAttempt(attempt)
        .build();
  }

  @Test
  void aCertificateOutweighsAFailureOfTheSameAttemptReportedAfterIt() {
    String now =
        StatusCommand.now(
            List.of(at(0, request(1)), at(1, issued(1)), at(2, failed(1, Stage.CHALLENGE))));
    assertThat(now).startsWith("issued, serial");
  }

  @Test
  void ofTwoFailuresTheLastStandsAndALaterAttemptDecides() {
    assertThat(
            StatusCommand.now(
                List.of(
                    at(0, request(1)),
                    at(1, failed(1, Stage.CHALLENGE)),
                    at(2, failed(1, Stage.FINALIZATION)))))
        .startsWith("failed at FINALIZATION");
    assertThat(StatusCommand.now(List.of(at(1, issued(1)), at(5, failed(2, Stage.ORDER)))))
        .startsWith("failed at ORDER");
  }

  @Test
  void aRevokedCertificateSaysSoWithItsReasonInsteadOfItsExpiry() {
    CertificateIssued c = issued(1);
    dev.renewal.events.CertificateRevoked revoked =
        dev.renewal.events.CertificateRevoked.newBuilder()
            .setEventId("v")
            .setOccurredAt(Instant.EPOCH.plusSeconds(9))
            .setRequestId(c.getRequestId())
            .setCertificateName(c.getCertificateName())
            .setSerialNumber(c.getSerialNumber())
            .setReason(dev.renewal.events.RevocationReason.KEY_COMPROMISE)
            .setCaProfile("pebble")
            .setRevocationEventId("rv")
            .setKeyRetired(true)
            .build();
    assertThat(StatusCommand.now(List.of(at(1, request(1)), at(2, c), at(9, revoked))))
        .isEqualTo(
            "issued, serial "
                + c.getSerialNumber()
                + ", REVOKED (keyCompromise) at 1970-01-01T00:00:09Z");
    assertThat(Progress.describe(revoked))
        .isEqualTo(
            "certificate REVOKED serial "
                + c.getSerialNumber()
                + ", reason keyCompromise; its key retired");
    assertThat(StatusCommand.now(List.of(at(1, request(1)), at(2, c))))
        .startsWith("issued, serial " + c.getSerialNumber() + ", valid until");
  }
}
