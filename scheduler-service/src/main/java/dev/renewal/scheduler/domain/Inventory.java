package dev.renewal.scheduler.domain;

import dev.renewal.events.AttemptOutcome;
import dev.renewal.events.CertificateCommand;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.CertificateRevoked;
import dev.renewal.events.CommandAction;
import dev.renewal.events.CurrentCertificate;
import dev.renewal.events.DueReason;
import dev.renewal.events.ManagedCertificate;
import dev.renewal.events.RenewalAttempt;
import dev.renewal.events.RenewalDue;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalInfoObserved;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.RevocationReason;
import dev.renewal.events.RevocationRecord;
import dev.renewal.scheduler.domain.RenewalTime.Before;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The inventory's fold: what one fact does to a managed certificate, and when it is due next. Pure
 * functions of the state, the fact and the clock; every rule commutes, so the state is the same
 * whatever the order its facts arrive in, with duplicates and with replays:
 *
 * <ul>
 *   <li>How to renew it is the latest managed request that is not a replay (by request time, then
 *       id; the latest replay while there is none): a retry or a {@code renewal replay} is another
 *       attempt of a request, not a new way to renew it.
 *   <li>The current certificate is the issued one with the latest {@code notBefore} (then serial).
 *   <li>Attempts are merged by request id and attempt number: ISSUED outweighs FAILED outweighs
 *       PENDING; the earliest request time stands. The 20 most recent are kept (by request time,
 *       else outcome time).
 *   <li>Managed or not is the latest fact that says (a managed request, an UNMANAGE command; a
 *       command wins a tie). Requests with {@code managed = false} and their outcomes are left out.
 * </ul>
 *
 * A certificate is due (its {@code nextRenewalAt}) at a point of the renewal window its CA
 * suggested for it (ARI, {@link RenewalWindows}), else by {@link RenewalTime} from the current
 * certificate, unless it is unmanaged, not issued yet, being renewed (its latest attempt pending,
 * or for a CSR certificate a {@code RenewalDue} with no request since) or failing (its latest
 * attempt failed): then it is retried when, and where, {@link Retries} says, if the failure is
 * retryable. A current certificate revoked is due at once (REVOKED).
 */
public final class Inventory {
  /** Attempts kept per certificate. */
  static final int HISTORY = 20;

  private Inventory() {}

  /** The renewal policy of each CA profile. */
  @FunctionalInterface
  public interface Rules {
    RenewalPolicy policy(String caProfile);

    Rules DEFAULT = profile -> RenewalPolicy.DEFAULT;
  }

  private static ManagedCertificate fresh(String name, Instant now) {
    return ManagedCertificate.newBuilder()
        .setCertificateName(name)
        .setManaged(true)
        .setAttempts(new ArrayList<>())
        .setUpdatedAt(now)
        .build();
  }

  /** A request for the certificate; empty when it is not managed and never was. */
  public static Optional<ManagedCertificate> requested(
      ManagedCertificate state, RenewalRequested r, Instant now, Rules rules) {
    if (!r.getManaged()) {
      return Optional.ofNullable(state);
    }
    ManagedCertificate s = copy(state, r.getCertificateName(), now);
    request(s, r);
    return Optional.of(settle(s, now, rules));
  }

  /** {@code state} to change, or a new certificate {@code name} when there is none. */
  private static ManagedCertificate copy(ManagedCertificate state, String name, Instant now) {
    return ManagedCertificate.newBuilder(state == null ? fresh(name, now) : state).build();
  }

  /**
   * Which request says how to renew a certificate: the greatest by this order. A request that is
   * not a replay outweighs a replay; then the later, then the greater id.
   */
  private static final Comparator<RenewalRequested> HOW_TO_RENEW =
      Comparator.comparing((RenewalRequested r) -> r.getReplayOf() == null)
          .thenComparing(RenewalRequested::getOccurredAt)
          .thenComparing(RenewalRequested::getRequestId);

  /** Folds managed request {@code r} into {@code s}: how to renew it, managed, its attempt. */
  private static void request(ManagedCertificate s, RenewalRequested r) {
    RenewalRequested spec = s.getRequest();
    if (spec == null || HOW_TO_RENEW.compare(r, spec) > 0) {
      s.setRequest(r);
    }
    if (s.getManagedChangedAt() == null || r.getOccurredAt().isAfter(s.getManagedChangedAt())) {
      s.setManaged(true);
      s.setManagedChangedAt(r.getOccurredAt());
    }
    attempt(
        s,
        r.getRequestId(),
        r.getAttempt(),
        a -> {
          if (a.getRequestedAt() == null || r.getOccurredAt().isBefore(a.getRequestedAt())) {
            a.setRequestedAt(r.getOccurredAt());
          }
          a.setCaProfile(r.getCaProfile());
        });
  }

  /** A certificate issued for one of its requests. */
  public static Optional<ManagedCertificate> issued(
      ManagedCertificate state, CertificateIssued c, Instant now, Rules rules) {
    if (!c.getManaged()) {
      return Optional.ofNullable(state);
    }
    ManagedCertificate s = copy(state, c.getCertificateName(), now);
    CurrentCertificate current = s.getCurrent();
    if (current == null
        || c.getNotBefore().isAfter(current.getNotBefore())
        || (c.getNotBefore().equals(current.getNotBefore())
            && c.getSerialNumber().compareTo(current.getSerialNumber()) > 0)) {
      s.setCurrent(
          CurrentCertificate.newBuilder()
              .setRequestId(c.getRequestId())
              .setSerialNumber(c.getSerialNumber())
              .setNotBefore(c.getNotBefore())
              .setNotAfter(c.getNotAfter())
              .setIssuer(c.getIssuer())
              .setAriCertId(c.getAriCertId())
              .setKeyRef(c.getKeyRef())
              .setCaProfile(c.getCaProfile())
              .build());
    }
    attempt(
        s,
        c.getRequestId(),
        c.getAttempt(),
        a -> {
          a.setOutcome(AttemptOutcome.ISSUED);
          a.setOutcomeAt(c.getOccurredAt());
          a.setSerialNumber(c.getSerialNumber());
          if (c.getCaProfile() != null) {
            a.setCaProfile(c.getCaProfile());
          }
          a.setFailedStage(null);
          a.setProblemType(null);
          a.setRetryable(false);
          a.setCaUnavailable(false);
          a.setRetryAfter(null);
          a.setFailureEventId(null);
        });
    return Optional.of(settle(s, now, rules));
  }

  /** A request of the certificate failed (the failure carries the request: a request fact too). */
  public static Optional<ManagedCertificate> failed(
      ManagedCertificate state, RenewalFailed f, Instant now, Rules rules) {
    if (f.getRequest() == null || !f.getRequest().getManaged()) {
      return Optional.ofNullable(state);
    }
    ManagedCertificate s = copy(state, f.getRequest().getCertificateName(), now);
    request(s, f.getRequest());
    attempt(
        s,
        f.getRequestId(),
        f.getRequest().getAttempt(),
        a -> {
          // Of two failures of one attempt (two stages reporting), the later one stands.
          if (a.getOutcome() == AttemptOutcome.PENDING
              || (a.getOutcome() == AttemptOutcome.FAILED
                  && a.getOutcomeAt() != null
                  && laterFailure(f, a))) {
            a.setOutcome(AttemptOutcome.FAILED);
            a.setOutcomeAt(f.getOccurredAt());
            a.setFailedStage(f.getStage());
            a.setProblemType(f.getProblem() == null ? null : f.getProblem().getType());
            a.setRetryable(f.getRetryable());
            a.setCaUnavailable(
                f.getProblem() != null
                    && Retries.caUnavailable(f.getProblem().getType(), f.getProblem().getStatus()));
            a.setRetryAfter(f.getRetryAfter());
            a.setFailureEventId(f.getEventId());
          }
        });
    return Optional.of(settle(s, now, rules));
  }

  /**
   * Whether failure {@code f} comes after the one recorded in {@code a} (by time, then event id).
   */
  private static boolean laterFailure(RenewalFailed f, RenewalAttempt a) {
    int byTime = f.getOccurredAt().compareTo(a.getOutcomeAt());
    return byTime > 0
        || (byTime == 0
            && a.getFailureEventId() != null
            && f.getEventId().compareTo(a.getFailureEventId()) > 0);
  }

  /**
   * The renewal information a CA gave about one of its certificates (RFC 9773). The latest answer
   * is kept (by time, then event id), whichever certificate it is about; it counts only while it is
   * about the current one ({@link RenewalWindows#due}). Nothing for a name not in the inventory.
   */
  public static Optional<ManagedCertificate> renewalInfo(
      ManagedCertificate state, RenewalInfoObserved info, Instant now, Rules rules) {
    if (state == null) {
      return Optional.empty();
    }
    RenewalInfoObserved known = state.getRenewalInfo();
    if (known != null
        && (info.getOccurredAt().isBefore(known.getOccurredAt())
            || (info.getOccurredAt().equals(known.getOccurredAt())
                && info.getEventId().compareTo(known.getEventId()) <= 0))) {
      return Optional.of(state);
    }
    ManagedCertificate s = copy(state, state.getCertificateName(), now);
    s.setRenewalInfo(info);
    return Optional.of(settle(s, now, rules));
  }

  /**
   * A certificate of it was revoked (CertificateRevoked): recorded once per serial (the first
   * confirmation's time stands); the current certificate revoked makes it due at once ({@link
   * DueReason#REVOKED}), and {@code CESSATION_OF_OPERATION} unmanages it (as {@code renewal
   * unmanage} at that time). Kept apart from the current certificate, so that a revocation read
   * before its issuance still counts.
   */
  public static Optional<ManagedCertificate> revoked(
      ManagedCertificate state, CertificateRevoked r, Instant now, Rules rules) {
    ManagedCertificate s = copy(state, r.getCertificateName(), now);
    List<RevocationRecord> revocations = new ArrayList<>(s.getRevocations());
    Optional<RevocationRecord> known =
        revocations.stream()
            .filter(x -> x.getSerialNumber().equals(r.getSerialNumber()))
            .findFirst();
    if (known.isEmpty() || r.getOccurredAt().isBefore(known.get().getRevokedAt())) {
      known.ifPresent(revocations::remove);
      revocations.add(
          RevocationRecord.newBuilder()
              .setSerialNumber(r.getSerialNumber())
              .setRequestId(r.getRequestId())
              .setReason(r.getReason())
              .setRevokedAt(r.getOccurredAt())
              .build());
      revocations.sort(
          Comparator.comparing(RevocationRecord::getRevokedAt)
              .thenComparing(RevocationRecord::getSerialNumber));
      if (revocations.size() > HISTORY) {
        revocations =
            new ArrayList<>(revocations.subList(revocations.size() - HISTORY, revocations.size()));
      }
      s.setRevocations(revocations);
    }
    if (r.getReason() == RevocationReason.CESSATION_OF_OPERATION
        && (s.getManagedChangedAt() == null
            || !r.getOccurredAt().isBefore(s.getManagedChangedAt()))) {
      s.setManaged(false);
      s.setManagedChangedAt(r.getOccurredAt());
    }
    return Optional.of(settle(s, now, rules));
  }

  /** The revocation of the current certificate, if it was revoked. */
  public static Optional<RevocationRecord> currentRevocation(ManagedCertificate s) {
    CurrentCertificate current = s.getCurrent();
    if (current == null) {
      return Optional.empty();
    }
    return s.getRevocations().stream()
        .filter(x -> x.getSerialNumber().equals(current.getSerialNumber()))
        .findFirst();
  }

  /**
   * {@code renewal unmanage}. For a name the inventory does not hold yet it records the fact (a
   * state with no request): its requests may come after it when the topics are read again.
   */
  public static Optional<ManagedCertificate> unmanaged(
      ManagedCertificate state, CertificateCommand c, Instant now, Rules rules) {
    if (c.getAction() != CommandAction.UNMANAGE) {
      return Optional.ofNullable(state);
    }
    ManagedCertificate s = copy(state, c.getCertificateName(), now);
    if (s.getManagedChangedAt() == null || !c.getOccurredAt().isBefore(s.getManagedChangedAt())) {
      s.setManaged(false);
      s.setManagedChangedAt(c.getOccurredAt());
    }
    return Optional.of(settle(s, now, rules));
  }

  /**
   * True while a renewal of it is under way: its latest attempt is pending, or the scheduler's last
   * renewal has no outcome yet, or (a CSR certificate) no request came since its last {@code
   * RenewalDue}.
   */
  public static boolean renewing(ManagedCertificate s) {
    List<RenewalAttempt> attempts = s.getAttempts();
    if (!attempts.isEmpty()
        && attempts.get(attempts.size() - 1).getOutcome() == AttemptOutcome.PENDING) {
      return true;
    }
    RenewalDue due = s.getLastDue();
    if (due == null) {
      return false;
    }
    if (due.getRenewalRequestId() != null) {
      return attempts.stream()
          .anyMatch(
              a ->
                  a.getRequestId().equals(due.getRenewalRequestId())
                      && a.getAttempt() == due.getAttempt()
                      && a.getOutcome() == AttemptOutcome.PENDING);
    }
    return s.getRequest() == null || due.getOccurredAt().isAfter(s.getRequest().getOccurredAt());
  }

  /** True when its latest attempt failed. */
  public static boolean failing(ManagedCertificate s) {
    List<RenewalAttempt> attempts = s.getAttempts();
    return !attempts.isEmpty()
        && attempts.get(attempts.size() - 1).getOutcome() == AttemptOutcome.FAILED;
  }

  /**
   * The scheduler decided to renew it now ({@code due}), and published {@code next} (null for a CSR
   * certificate, whose key holder answers with a request).
   */
  public static ManagedCertificate renewal(
      ManagedCertificate state, RenewalDue due, RenewalRequested next, Instant now, Rules rules) {
    // The request is a fact like any other (when it comes back on renewal.requested it changes
    // nothing): folded here, with the reason the scheduler made it.
    ManagedCertificate s = copy(state, state.getCertificateName(), now);
    s.setLastDue(due);
    if (next != null) {
      request(s, next);
      attempt(s, next.getRequestId(), next.getAttempt(), a -> a.setDueReason(due.getReason()));
    }
    return settle(s, now, rules);
  }

  /**
   * The request that retries {@code s}'s failed latest attempt: a new attempt of it (same request
   * id, attempt + 1, {@code replayOf} its failure) on {@code caProfile}, as its latest request says
   * to renew it.
   */
  public static RenewalRequested retryRequest(
      ManagedCertificate s, String caProfile, String eventId, Instant now) {
    RenewalAttempt failed = s.getAttempts().get(s.getAttempts().size() - 1);
    CurrentCertificate current = s.getCurrent();
    return RenewalRequested.newBuilder(s.getRequest())
        .setEventId(eventId)
        .setRequestId(failed.getRequestId())
        .setOccurredAt(now)
        .setAttempt(failed.getAttempt() + 1)
        .setReplayOf(failed.getFailureEventId())
        .setCaProfile(caProfile)
        .setManaged(true)
        .setRenews(current == null ? null : current.getSerialNumber())
        .setReplaces(current == null ? null : current.getAriCertId())
        .build();
  }

  /**
   * The request that renews {@code s} now: its latest request with new ids, the current certificate
   * as the one it renews and replaces (ARI), attempt 1.
   */
  public static RenewalRequested nextRequest(
      ManagedCertificate s, String requestId, String eventId, Instant now) {
    RenewalRequested spec = s.getRequest();
    CurrentCertificate current = s.getCurrent();
    return RenewalRequested.newBuilder(spec)
        .setEventId(eventId)
        .setRequestId(requestId)
        .setOccurredAt(now)
        .setAttempt(1)
        .setReplayOf(null)
        .setManaged(true)
        .setRenews(current == null ? null : current.getSerialNumber())
        .setReplaces(current == null ? null : current.getAriCertId())
        .build();
  }

  /** Whether it can be renewed by the pipeline itself (it holds the key): no CSR. */
  public static boolean holdsKey(ManagedCertificate s) {
    return s.getRequest() != null && s.getRequest().getCsrPem() == null;
  }

  /** Merges into attempt {@code number} of {@code requestId} (made PENDING if new). */
  private static void attempt(
      ManagedCertificate s,
      String requestId,
      int number,
      java.util.function.Consumer<RenewalAttempt> change) {
    List<RenewalAttempt> attempts = new ArrayList<>(s.getAttempts());
    java.util.function.Predicate<RenewalAttempt> same =
        x -> x.getRequestId().equals(requestId) && x.getAttempt() == number;
    RenewalAttempt a =
        attempts.stream()
            .filter(same)
            .findFirst()
            .map(x -> RenewalAttempt.newBuilder(x).build())
            .orElseGet(
                () ->
                    RenewalAttempt.newBuilder()
                        .setRequestId(requestId)
                        .setAttempt(number)
                        .setOutcome(AttemptOutcome.PENDING)
                        .build());
    attempts.removeIf(same);
    change.accept(a);
    attempts.add(a);
    s.setAttempts(attempts);
  }

  /** When an attempt happened, for its place in the history. */
  private static final Comparator<RenewalAttempt> BY_TIME =
      Comparator.comparing(
              (Function<RenewalAttempt, Instant>)
                  a ->
                      a.getRequestedAt() != null
                          ? a.getRequestedAt()
                          : a.getOutcomeAt() != null ? a.getOutcomeAt() : Instant.EPOCH)
          .thenComparing(RenewalAttempt::getRequestId)
          .thenComparing(RenewalAttempt::getAttempt);

  /** Orders and trims the history, counts the failures, schedules the next renewal. */
  private static ManagedCertificate settle(ManagedCertificate s, Instant now, Rules rules) {
    List<RenewalAttempt> attempts = new ArrayList<>(s.getAttempts());
    attempts.sort(BY_TIME);
    if (attempts.size() > HISTORY) {
      attempts = new ArrayList<>(attempts.subList(attempts.size() - HISTORY, attempts.size()));
    }
    s.setAttempts(attempts);
    int failures = 0;
    for (RenewalAttempt a : attempts) {
      if (a.getOutcome() == AttemptOutcome.ISSUED) {
        failures = 0;
      } else if (a.getOutcome() == AttemptOutcome.FAILED) {
        failures++;
      }
    }
    s.setConsecutiveFailures(failures);
    Optional<Next> next = next(s, rules);
    s.setNextRenewalAt(next.map(Next::at).orElse(null));
    s.setNextRenewalReason(next.map(Next::reason).orElse(DueReason.UNKNOWN));
    s.setNextRenewalProfile(next.map(Next::caProfile).orElse(null));
    s.setUpdatedAt(now);
    return s;
  }

  /** The next renewal: when, why, on which profile. */
  record Next(Instant at, DueReason reason, String caProfile) {}

  /**
   * When it is due next: a retry when its latest attempt failed and may be retried, else by its
   * lifetime; empty when nothing is to be scheduled.
   */
  static Optional<Next> next(ManagedCertificate s, Rules rules) {
    CurrentCertificate current = s.getCurrent();
    RenewalRequested spec = s.getRequest();
    if (!s.getManaged() || spec == null || renewing(s)) {
      return Optional.empty();
    }
    Optional<RevocationRecord> revoked = currentRevocation(s);
    if (failing(s)) {
      // A revoked certificate is no longer usable: its retries are as urgent as at its expiry.
      return Retries.next(
              s.getCertificateName(),
              s.getAttempts(),
              spec.getCaProfile(),
              current == null ? null : current.getNotBefore(),
              current == null
                  ? null
                  : revoked.map(RevocationRecord::getRevokedAt).orElse(current.getNotAfter()),
              rules::policy)
          .map(r -> new Next(r.at(), r.reason(), r.caProfile()));
    }
    if (current == null) {
      return Optional.empty();
    }
    if (revoked.isPresent()) {
      return Optional.of(
          new Next(revoked.get().getRevokedAt(), DueReason.REVOKED, spec.getCaProfile()));
    }
    Optional<RenewalWindows.Due> window =
        RenewalWindows.due(s.getCertificateName(), current, s.getRenewalInfo());
    if (window.isPresent()) {
      return Optional.of(new Next(window.get().at(), window.get().reason(), spec.getCaProfile()));
    }
    return Optional.of(
        new Next(
            RenewalTime.due(
                s.getCertificateName(),
                current.getNotBefore(),
                current.getNotAfter(),
                rule(s, rules)),
            DueReason.LIFETIME,
            spec.getCaProfile()));
  }

  /** The request's renewBefore, else the profile's rule; a request's unreadable rule is skipped. */
  static Optional<Before> rule(ManagedCertificate s, Rules rules) {
    RenewalRequested spec = s.getRequest();
    if (spec != null && spec.getRenewBefore() != null) {
      try {
        return Optional.of(Before.parse(spec.getRenewBefore()));
      } catch (IllegalArgumentException e) {
        // Checked where requests are published; one written by another client falls back.
      }
    }
    return spec == null ? Optional.empty() : rules.policy(spec.getCaProfile()).before();
  }
}
