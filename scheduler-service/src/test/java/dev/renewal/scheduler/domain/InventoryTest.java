package dev.renewal.scheduler.domain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.contract.SampleEvents;
import dev.renewal.events.AttemptOutcome;
import dev.renewal.events.CertificateCommand;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.CommandAction;
import dev.renewal.events.DueReason;
import dev.renewal.events.ManagedCertificate;
import dev.renewal.events.RenewalAttempt;
import dev.renewal.events.RenewalDue;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.Stage;
import dev.renewal.scheduler.domain.Inventory.Rules;
import dev.renewal.scheduler.domain.RenewalTime.Before;
import dev.renewal.testkit.Permutations;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

class InventoryTest {
  private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
  private static final Instant NOW = T0.plus(Duration.ofDays(1));
  private static final String NAME = "shop";

  static RenewalRequested request(String id, Instant at) {
    return RenewalRequested.newBuilder(SampleEvents.request())
        .setEventId("e-" + id)
        .setRequestId(id)
        .setOccurredAt(at)
        .setCertificateName(NAME)
        .setAttempt(1)
        .setReplayOf(null)
        .build();
  }

  static CertificateIssued issued(
      String requestId, String serial, Instant notBefore, Duration life) {
    return CertificateIssued.newBuilder(SampleEvents.certificateIssued())
        .setEventId("i-" + requestId)
        .setRequestId(requestId)
        .setCertificateName(NAME)
        .setSerialNumber(serial)
        .setNotBefore(notBefore)
        .setNotAfter(notBefore.plus(life))
        .setOccurredAt(notBefore.plusSeconds(5))
        .setAttempt(1)
        .build();
  }

  static RenewalFailed failed(RenewalRequested r, Instant at) {
    return RenewalFailed.newBuilder(SampleEvents.renewalFailed())
        .setEventId("f-" + r.getRequestId())
        .setRequestId(r.getRequestId())
        .setOccurredAt(at)
        .setStage(Stage.AUTHORIZATION)
        .setRequest(r)
        .build();
  }

  static CertificateCommand unmanage(Instant at) {
    return CertificateCommand.newBuilder()
        .setEventId("c-" + at)
        .setOccurredAt(at)
        .setCertificateName(NAME)
        .setAction(CommandAction.UNMANAGE)
        .build();
  }

  /** One fact applied to a state, as the scheduler's processor does. */
  static ManagedCertificate apply(ManagedCertificate s, SpecificRecord fact, Rules rules) {
    Optional<ManagedCertificate> out;
    if (fact instanceof RenewalRequested r) {
      out = Inventory.requested(s, r, NOW, rules);
    } else if (fact instanceof CertificateIssued c) {
      out = Inventory.issued(s, c, NOW, rules);
    } else if (fact instanceof RenewalFailed f) {
      out = Inventory.failed(s, f, NOW, rules);
    } else {
      out = Inventory.unmanaged(s, (CertificateCommand) fact, NOW, rules);
    }
    return out.orElse(null);
  }

  static ManagedCertificate fold(List<? extends SpecificRecord> facts) {
    ManagedCertificate s = null;
    for (SpecificRecord f : facts) {
      s = apply(s, f, Rules.DEFAULT);
    }
    return s;
  }

  @Test
  void theInventoryFoldsTheSameInEveryOrderWithDuplicatesAndAReplay() {
    RenewalRequested first = request("r1", T0);
    RenewalRequested second = request("r2", T0.plus(Duration.ofDays(60)));
    RenewalRequested replay =
        RenewalRequested.newBuilder(request("r3", T0.plus(Duration.ofDays(61))))
            .setAttempt(2)
            .setReplayOf("f-r2")
            .build();
    List<SpecificRecord> facts =
        List.of(
            first,
            issued("r1", "0a", T0, Duration.ofDays(90)),
            second,
            failed(second, T0.plus(Duration.ofDays(60)).plusSeconds(30)),
            replay,
            CertificateIssued.newBuilder(
                    issued("r3", "0b", T0.plus(Duration.ofDays(61)), Duration.ofDays(90)))
                .setAttempt(2)
                .build());
    ManagedCertificate expected = fold(facts);
    assertThat(expected.getCurrent().getSerialNumber()).isEqualTo("0b");
    assertThat(expected.getRequest().getRequestId())
        .as("a replay is another attempt of a request, not a new way to renew it")
        .isEqualTo("r2");
    assertThat(expected.getAttempts())
        .extracting(RenewalAttempt::getRequestId, RenewalAttempt::getOutcome)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("r1", AttemptOutcome.ISSUED),
            org.assertj.core.groups.Tuple.tuple("r2", AttemptOutcome.FAILED),
            org.assertj.core.groups.Tuple.tuple("r3", AttemptOutcome.ISSUED));
    assertThat(expected.getConsecutiveFailures()).isZero();
    assertThat(expected.getNextRenewalAt())
        .isEqualTo(
            RenewalTime.due(
                NAME,
                T0.plus(Duration.ofDays(61)),
                T0.plus(Duration.ofDays(151)),
                Optional.empty()));
    for (List<SpecificRecord> order : Permutations.of(facts)) {
      assertThat(fold(order)).as(order.toString()).isEqualTo(expected);
      List<SpecificRecord> twice = new ArrayList<>(order);
      twice.addAll(order.subList(0, 3));
      assertThat(fold(twice)).as("with duplicates " + order).isEqualTo(expected);
    }
  }

  @Test
  void requestsIssuedOnceAndTheirOutcomesAreLeftOut() {
    RenewalRequested once =
        RenewalRequested.newBuilder(request("r1", T0)).setManaged(false).build();
    CertificateIssued onceIssued =
        CertificateIssued.newBuilder(issued("r1", "0a", T0, Duration.ofDays(90)))
            .setManaged(false)
            .build();
    assertThat(fold(List.of(once, onceIssued))).isNull();
    assertThat(fold(List.of(once, onceIssued, failed(once, T0)))).isNull();
    // A name already managed keeps its own history.
    ManagedCertificate managed =
        fold(
            List.of(request("r0", T0.minusSeconds(9)), issued("r0", "09", T0, Duration.ofDays(9))));
    ManagedCertificate after =
        apply(apply(managed, once, Rules.DEFAULT), onceIssued, Rules.DEFAULT);
    assertThat(after).isEqualTo(managed);
  }

  @Test
  void unmanagedUntilALaterManagedRequestAndACommandWinsATie() {
    RenewalRequested r = request("r1", T0);
    CertificateIssued c = issued("r1", "0a", T0, Duration.ofDays(90));
    ManagedCertificate unmanaged = fold(List.of(r, c, unmanage(T0.plusSeconds(60))));
    assertThat(unmanaged.getManaged()).isFalse();
    assertThat(unmanaged.getNextRenewalAt()).isNull();
    assertThat(fold(List.of(unmanage(T0.plusSeconds(60)), r, c))).isEqualTo(unmanaged);
    assertThat(fold(List.of(r, c, unmanage(T0))).getManaged()).isFalse();
    ManagedCertificate again = apply(unmanaged, request("r2", T0.plusSeconds(120)), Rules.DEFAULT);
    assertThat(again.getManaged()).isTrue();
    // Unmanaging a name the inventory does not hold yet is kept: its requests may come later.
    ManagedCertificate unknown = apply(null, unmanage(T0.plusSeconds(60)), Rules.DEFAULT);
    assertThat(unknown.getManaged()).isFalse();
    assertThat(unknown.getRequest()).isNull();
    assertThat(unknown.getNextRenewalAt()).isNull();
  }

  @Test
  void theNextRenewalFollowsTheRequestsRuleElseTheProfilesElseTheDefault() {
    CertificateIssued c = issued("r1", "0a", T0, Duration.ofDays(90));
    Instant end = T0.plus(Duration.ofDays(90));
    ManagedCertificate byDefault = fold(List.of(request("r1", T0), c));
    assertThat(byDefault.getNextRenewalReason()).isEqualTo(DueReason.LIFETIME);
    assertThat(byDefault.getNextRenewalAt())
        .isEqualTo(RenewalTime.due(NAME, T0, end, Optional.empty()));
    Rules profile = p -> RenewalPolicy.DEFAULT.withBefore(Optional.of(Before.parse("10d")));
    ManagedCertificate byProfile = apply(apply(null, request("r1", T0), profile), c, profile);
    assertThat(byProfile.getNextRenewalAt())
        .isEqualTo(RenewalTime.due(NAME, T0, end, Optional.of(Before.parse("10d"))));
    RenewalRequested own =
        RenewalRequested.newBuilder(request("r1", T0)).setRenewBefore("50%").build();
    ManagedCertificate byRequest = apply(apply(null, own, profile), c, profile);
    assertThat(byRequest.getNextRenewalAt())
        .isEqualTo(RenewalTime.due(NAME, T0, end, Optional.of(Before.parse("50%"))));
    RenewalRequested unreadable =
        RenewalRequested.newBuilder(request("r1", T0)).setRenewBefore("soon").build();
    assertThat(apply(apply(null, unreadable, profile), c, profile).getNextRenewalAt())
        .isEqualTo(byProfile.getNextRenewalAt());
  }

  @Test
  void nothingIsScheduledBeforeTheFirstCertificateWhileRenewingOrWhenTheLatestAttemptFailed() {
    RenewalRequested r1 = request("r1", T0);
    assertThat(fold(List.of(r1)).getNextRenewalAt()).isNull();
    ManagedCertificate issued = fold(List.of(r1, issued("r1", "0a", T0, Duration.ofDays(90))));
    assertThat(issued.getNextRenewalAt()).isNotNull();

    RenewalRequested next = Inventory.nextRequest(issued, "r2", "e2", NOW);
    RenewalDue due = due(issued, "r2");
    ManagedCertificate renewing = Inventory.renewal(issued, due, next, NOW, Rules.DEFAULT);
    assertThat(Inventory.renewing(renewing)).isTrue();
    assertThat(renewing.getNextRenewalAt()).isNull();
    assertThat(renewing.getAttempts().get(renewing.getAttempts().size() - 1).getDueReason())
        .isEqualTo(DueReason.LIFETIME);
    // Its own request coming back changes nothing.
    assertThat(apply(renewing, next, Rules.DEFAULT)).isEqualTo(renewing);

    ManagedCertificate failedOnce = apply(renewing, failed(next, NOW), Rules.DEFAULT);
    assertThat(Inventory.failing(failedOnce)).isTrue();
    assertThat(failedOnce.getConsecutiveFailures()).isEqualTo(1);
    assertThat(failedOnce.getNextRenewalAt()).isNull();
    ManagedCertificate renewed =
        apply(renewing, issued("r2", "0b", NOW, Duration.ofDays(90)), Rules.DEFAULT);
    assertThat(renewed.getCurrent().getSerialNumber()).isEqualTo("0b");
    assertThat(renewed.getNextRenewalAt()).isAfter(NOW);
  }

  @Test
  void aCsrCertificateIsRenewingFromItsDueUntilItsKeyHolderSendsARequest() {
    RenewalRequested withCsr =
        RenewalRequested.newBuilder(request("r1", T0)).setCsrPem("-----BEGIN...").build();
    ManagedCertificate s = fold(List.of(withCsr, issued("r1", "0a", T0, Duration.ofDays(90))));
    assertThat(Inventory.holdsKey(s)).isFalse();
    RenewalDue due =
        RenewalDue.newBuilder(due(s, null)).setCsr(true).setRenewalRequestId(null).build();
    ManagedCertificate waiting = Inventory.renewal(s, due, null, NOW, Rules.DEFAULT);
    assertThat(Inventory.renewing(waiting)).isTrue();
    assertThat(waiting.getAttempts()).hasSize(1);
    RenewalRequested answer =
        RenewalRequested.newBuilder(request("r2", NOW.plusSeconds(1))).setCsrPem("x").build();
    assertThat(Inventory.renewing(apply(waiting, answer, Rules.DEFAULT))).isTrue();
    ManagedCertificate renewed =
        apply(
            apply(waiting, answer, Rules.DEFAULT),
            issued("r2", "0b", NOW.plusSeconds(2), Duration.ofDays(90)),
            Rules.DEFAULT);
    assertThat(Inventory.renewing(renewed)).isFalse();
    assertThat(renewed.getNextRenewalAt()).isNotNull();
  }

  @Test
  void theNextRequestIsTheLatestOneWithNewIdsRenewingAndReplacingTheCurrentCertificate() {
    CertificateIssued c =
        CertificateIssued.newBuilder(issued("r1", "0a", T0, Duration.ofDays(90)))
            .setAriCertId("aki.serial")
            .build();
    RenewalRequested old =
        RenewalRequested.newBuilder(request("r1", T0)).setAttempt(3).setReplayOf("f-r0").build();
    ManagedCertificate s = fold(List.of(old, c));
    RenewalRequested next = Inventory.nextRequest(s, "r2", "e2", NOW);
    assertThat(next.getRequestId()).isEqualTo("r2");
    assertThat(next.getEventId()).isEqualTo("e2");
    assertThat(next.getOccurredAt()).isEqualTo(NOW);
    assertThat(next.getAttempt()).isEqualTo(1);
    assertThat(next.getReplayOf()).isNull();
    assertThat(next.getRenews()).isEqualTo("0a");
    assertThat(next.getReplaces()).isEqualTo("aki.serial");
    assertThat(next.getDnsNames()).isEqualTo(old.getDnsNames());
    assertThat(next.getCaProfile()).isEqualTo(old.getCaProfile());
  }

  @Test
  void theHistoryKeepsTheTwentyLatestAttemptsAndCountsFailuresSinceTheLastIssued() {
    List<SpecificRecord> facts = new ArrayList<>();
    facts.add(request("r00", T0));
    facts.add(issued("r00", "00", T0, Duration.ofDays(90)));
    for (int i = 1; i <= 24; i++) {
      RenewalRequested r = request(String.format("r%02d", i), T0.plusSeconds(i * 60L));
      facts.add(r);
      facts.add(failed(r, T0.plusSeconds(i * 60L + 5)));
    }
    ManagedCertificate s = fold(facts);
    assertThat(s.getAttempts()).hasSize(Inventory.HISTORY);
    assertThat(s.getAttempts().get(0).getRequestId()).isEqualTo("r05");
    assertThat(s.getConsecutiveFailures()).isEqualTo(20);
    assertThat(s.getCurrent().getSerialNumber()).isEqualTo("00");
    // Reversed, the same.
    List<SpecificRecord> reversed = new ArrayList<>(facts);
    java.util.Collections.reverse(reversed);
    assertThat(fold(reversed)).isEqualTo(s);
  }

  static RenewalFailed retryable(RenewalRequested r, Instant at, String problemType) {
    RenewalFailed f = failed(r, at);
    return RenewalFailed.newBuilder(f)
        .setEventId("f-" + r.getRequestId() + "-" + r.getAttempt())
        .setRetryable(true)
        .setProblem(
            dev.renewal.events.Problem.newBuilder(f.getProblem()).setType(problemType).build())
        .build();
  }

  private static final String TIMEOUT = "urn:renewal:problem:authorization-timeout";

  @Test
  void aRetryableFailureIsRetriedAsANewAttemptOfTheFailedRequestAndOnlyOnce() {
    ManagedCertificate issued =
        fold(List.of(request("r1", T0), issued("r1", "0a", T0, Duration.ofDays(90))));
    RenewalRequested r2 = Inventory.nextRequest(issued, "r2", "e2", NOW);
    ManagedCertificate renewing =
        Inventory.renewal(issued, due(issued, "r2"), r2, NOW, Rules.DEFAULT);
    Instant failedAt = NOW.plusSeconds(40);
    ManagedCertificate failing = apply(renewing, retryable(r2, failedAt, TIMEOUT), Rules.DEFAULT);
    assertThat(failing.getNextRenewalReason()).isEqualTo(DueReason.RETRY);
    assertThat(failing.getNextRenewalProfile()).isEqualTo(r2.getCaProfile());
    assertThat(failing.getNextRenewalAt())
        .isBetween(failedAt.plus(Duration.ofMinutes(54)), failedAt.plus(Duration.ofHours(1)));
    RenewalAttempt last = failing.getAttempts().get(failing.getAttempts().size() - 1);
    assertThat(last.getRetryable()).isTrue();
    assertThat(last.getCaUnavailable()).isFalse();
    assertThat(last.getFailureEventId()).isEqualTo("f-r2-1");

    RenewalRequested retry =
        Inventory.retryRequest(
            failing, failing.getNextRenewalProfile(), "e-retry", NOW.plusSeconds(3600));
    assertThat(retry.getRequestId()).isEqualTo("r2");
    assertThat(retry.getAttempt()).isEqualTo(2);
    assertThat(retry.getReplayOf()).isEqualTo("f-r2-1");
    assertThat(retry.getRenews()).isEqualTo("0a");
    RenewalDue retryDue =
        RenewalDue.newBuilder(due(failing, "r2"))
            .setReason(DueReason.RETRY)
            .setAttempt(2)
            .setReplayOf("f-r2-1")
            .build();
    ManagedCertificate retrying =
        Inventory.renewal(failing, retryDue, retry, NOW.plusSeconds(3600), Rules.DEFAULT);
    assertThat(Inventory.renewing(retrying)).isTrue();
    assertThat(retrying.getNextRenewalAt()).as("nothing more while it runs").isNull();
    assertThat(retrying.getRequest().getRequestId())
        .as("how to renew it is unchanged")
        .isEqualTo("r2");

    // An operator's `renewal replay` of the same failure is the same attempt: nothing doubles.
    RenewalRequested operatorReplay =
        RenewalRequested.newBuilder(r2)
            .setEventId("e-op")
            .setAttempt(2)
            .setReplayOf("f-r2-1")
            .setOccurredAt(NOW.plusSeconds(3700))
            .build();
    ManagedCertificate both = apply(retrying, operatorReplay, Rules.DEFAULT);
    assertThat(both.getAttempts()).hasSameSizeAs(retrying.getAttempts());
    assertThat(both.getNextRenewalAt()).isNull();

    ManagedCertificate renewed =
        apply(
            both,
            CertificateIssued.newBuilder(
                    issued("r2", "0b", NOW.plusSeconds(3800), Duration.ofDays(90)))
                .setAttempt(2)
                .build(),
            Rules.DEFAULT);
    assertThat(renewed.getCurrent().getSerialNumber()).isEqualTo("0b");
    assertThat(renewed.getConsecutiveFailures()).isZero();
    assertThat(renewed.getNextRenewalReason()).isEqualTo(DueReason.LIFETIME);
  }

  @Test
  void retriesAndTheirOutcomesFoldTheSameInEveryOrder() {
    RenewalRequested r1 = request("r1", T0);
    RenewalRequested r2 = request("r2", T0.plus(Duration.ofDays(60)));
    RenewalRequested r2again =
        RenewalRequested.newBuilder(r2)
            .setEventId("e-r2-2")
            .setAttempt(2)
            .setReplayOf("f-r2-1")
            .setCaProfile("backup")
            .setOccurredAt(T0.plus(Duration.ofDays(60)).plusSeconds(3600))
            .build();
    List<SpecificRecord> facts =
        List.of(
            r1,
            issued("r1", "0a", T0, Duration.ofDays(90)),
            r2,
            retryable(
                r2, T0.plus(Duration.ofDays(60)).plusSeconds(30), "urn:renewal:problem:network"),
            r2again,
            retryable(r2again, T0.plus(Duration.ofDays(60)).plusSeconds(3630), TIMEOUT));
    ManagedCertificate expected = fold(facts);
    assertThat(expected.getAttempts())
        .extracting(
            RenewalAttempt::getRequestId, RenewalAttempt::getAttempt, RenewalAttempt::getCaProfile)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("r1", 1, r1.getCaProfile()),
            org.assertj.core.groups.Tuple.tuple("r2", 1, r2.getCaProfile()),
            org.assertj.core.groups.Tuple.tuple("r2", 2, "backup"));
    assertThat(expected.getAttempts().get(1).getCaUnavailable()).isTrue();
    assertThat(expected.getConsecutiveFailures()).isEqualTo(2);
    assertThat(expected.getNextRenewalReason()).isEqualTo(DueReason.RETRY);
    for (List<SpecificRecord> order : Permutations.of(facts)) {
      assertThat(fold(order)).as(order.toString()).isEqualTo(expected);
    }
  }

  @Test
  void aFailedFirstRequestIsRetriedTooAndANonRetryableOneIsNot() {
    RenewalRequested r1 = request("r1", T0);
    ManagedCertificate failing = fold(List.of(r1, retryable(r1, T0.plusSeconds(9), TIMEOUT)));
    assertThat(failing.getCurrent()).isNull();
    assertThat(failing.getNextRenewalReason()).isEqualTo(DueReason.RETRY);
    assertThat(failing.getNextRenewalAt()).isBefore(T0.plusSeconds(9 + 3601));
    ManagedCertificate refused = fold(List.of(r1, failed(r1, T0.plusSeconds(9))));
    assertThat(refused.getNextRenewalAt()).isNull();
    assertThat(Inventory.failing(refused)).isTrue();
  }

  @Test
  void aRenewalWindowMovesTheNextRenewalAndTheLatestAnswerStandsInEveryOrder() {
    CertificateIssued c =
        CertificateIssued.newBuilder(issued("r1", "0a", T0, Duration.ofDays(90)))
            .setAriCertId("aki.0a")
            .build();
    ManagedCertificate s = fold(List.of(request("r1", T0), c));
    Instant lifetime = s.getNextRenewalAt();
    Instant start = T0.plus(Duration.ofDays(40));
    dev.renewal.events.RenewalInfoObserved first =
        RenewalWindowsTest.info(
            "aki.0a", T0.plusSeconds(60), start, start.plus(Duration.ofDays(1)));
    ManagedCertificate windowed = Inventory.renewalInfo(s, first, NOW, Rules.DEFAULT).orElseThrow();
    assertThat(windowed.getNextRenewalReason()).isEqualTo(DueReason.ARI_WINDOW);
    assertThat(windowed.getNextRenewalAt())
        .isNotEqualTo(lifetime)
        .isBetween(start, start.plus(Duration.ofDays(1)));

    Instant later = T0.plus(Duration.ofDays(5));
    dev.renewal.events.RenewalInfoObserved moved =
        RenewalWindowsTest.info("aki.0a", later, later.minusSeconds(3600), later.minusSeconds(1));
    ManagedCertificate urgent =
        Inventory.renewalInfo(windowed, moved, NOW, Rules.DEFAULT).orElseThrow();
    assertThat(urgent.getNextRenewalReason()).isEqualTo(DueReason.ARI_WINDOW_PASSED);
    assertThat(urgent.getNextRenewalAt()).isEqualTo(later);
    // The older answer arriving last changes nothing.
    assertThat(Inventory.renewalInfo(urgent, first, NOW, Rules.DEFAULT)).contains(urgent);
    ManagedCertificate otherOrder =
        Inventory.renewalInfo(
                Inventory.renewalInfo(s, moved, NOW, Rules.DEFAULT).orElseThrow(),
                first,
                NOW,
                Rules.DEFAULT)
            .orElseThrow();
    assertThat(otherOrder).isEqualTo(urgent);
    // Nothing for a name not in the inventory; the renewed certificate is back on its lifetime.
    assertThat(Inventory.renewalInfo(null, first, NOW, Rules.DEFAULT)).isEmpty();
    ManagedCertificate renewed =
        apply(
            urgent,
            CertificateIssued.newBuilder(issued("r2", "0b", later, Duration.ofDays(90)))
                .setAriCertId("aki.0b")
                .build(),
            Rules.DEFAULT);
    assertThat(renewed.getNextRenewalReason()).isEqualTo(DueReason.LIFETIME);
  }

  static RenewalDue due(ManagedCertificate s, String requestId) {
    return RenewalDue.newBuilder()
        .setEventId("d-" + requestId)
        .setOccurredAt(NOW)
        .setCertificateName(NAME)
        .setReason(DueReason.LIFETIME)
        .setDueAt(s.getNextRenewalAt() == null ? NOW : s.getNextRenewalAt())
        .setReplacesSerial(s.getCurrent() == null ? null : s.getCurrent().getSerialNumber())
        .setRenewalRequestId(requestId)
        .build();
  }
}
