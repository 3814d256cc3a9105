package dev.renewal.scheduler.domain;

import dev.renewal.events.AttemptOutcome;
import dev.renewal.events.CertificateCommand;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.CommandAction;
import dev.renewal.events.CurrentCertificate;
import dev.renewal.events.DueReason;
import dev.renewal.events.ManagedCertificate;
import dev.renewal.events.RenewalAttempt;
import dev.renewal.events.RenewalDue;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
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
 *   <li>How to renew it is the latest managed request (by request time, then id).
 *   <li>The current certificate is the issued one with the latest {@code notBefore} (then serial).
 *   <li>Attempts are merged by request id: ISSUED outweighs FAILED outweighs PENDING. The 20 most
 *       recent are kept (by request time, else outcome time).
 *   <li>Managed or not is the latest fact that says (a managed request, an UNMANAGE command; a
 *       command wins a tie). Requests with {@code managed = false} and their outcomes are left out.
 * </ul>
 *
 * A certificate is due (its {@code nextRenewalAt}) by {@link RenewalTime} from the current
 * certificate, unless it is unmanaged, not issued yet, being renewed (its latest attempt pending,
 * or for a CSR certificate a {@code RenewalDue} with no request since) or failing (its latest
 * attempt failed: the retry rules are the next issue's, docs/scheduler-service.md).
 */
public final class Inventory {
  /** Attempts kept per certificate. */
  static final int HISTORY = 20;

  private Inventory() {}

  /** The {@code renewal.before} rule of a CA profile, if it has one. */
  @FunctionalInterface
  public interface Rules {
    Optional<Before> before(String caProfile);

    Rules DEFAULT = profile -> Optional.empty();
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

  /** Folds managed request {@code r} into {@code s}: how to renew it, managed, its attempt. */
  private static void request(ManagedCertificate s, RenewalRequested r) {
    RenewalRequested spec = s.getRequest();
    if (spec == null
        || Comparator.comparing(RenewalRequested::getOccurredAt)
                .thenComparing(RenewalRequested::getRequestId)
                .compare(r, spec)
            > 0) {
      s.setRequest(r);
    }
    if (s.getManagedChangedAt() == null || r.getOccurredAt().isAfter(s.getManagedChangedAt())) {
      s.setManaged(true);
      s.setManagedChangedAt(r.getOccurredAt());
    }
    attempt(
        s,
        r.getRequestId(),
        a -> {
          a.setRequestedAt(r.getOccurredAt());
          a.setAttempt(r.getAttempt());
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
              .build());
    }
    attempt(
        s,
        c.getRequestId(),
        a -> {
          a.setOutcome(AttemptOutcome.ISSUED);
          a.setOutcomeAt(c.getOccurredAt());
          a.setAttempt(c.getAttempt());
          a.setSerialNumber(c.getSerialNumber());
          a.setFailedStage(null);
          a.setProblemType(null);
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
        a -> {
          if (a.getOutcome() != AttemptOutcome.ISSUED) {
            a.setOutcome(AttemptOutcome.FAILED);
            a.setOutcomeAt(f.getOccurredAt());
            a.setFailedStage(f.getStage());
            a.setProblemType(f.getProblem() == null ? null : f.getProblem().getType());
          }
        });
    return Optional.of(settle(s, now, rules));
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
      attempt(s, next.getRequestId(), a -> a.setDueReason(due.getReason()));
    }
    return settle(s, now, rules);
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

  /** Merges into the attempt of {@code requestId} (made PENDING if new). */
  private static void attempt(
      ManagedCertificate s, String requestId, java.util.function.Consumer<RenewalAttempt> change) {
    List<RenewalAttempt> attempts = new ArrayList<>(s.getAttempts());
    RenewalAttempt a =
        attempts.stream()
            .filter(x -> x.getRequestId().equals(requestId))
            .findFirst()
            .map(x -> RenewalAttempt.newBuilder(x).build())
            .orElseGet(
                () ->
                    RenewalAttempt.newBuilder()
                        .setRequestId(requestId)
                        .setOutcome(AttemptOutcome.PENDING)
                        .build());
    attempts.removeIf(x -> x.getRequestId().equals(requestId));
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
          .thenComparing(RenewalAttempt::getRequestId);

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
    Optional<Instant> next = next(s, rules);
    s.setNextRenewalAt(next.orElse(null));
    s.setNextRenewalReason(next.isPresent() ? DueReason.LIFETIME : DueReason.UNKNOWN);
    s.setUpdatedAt(now);
    return s;
  }

  /** When it is due next by its lifetime; empty when nothing is to be scheduled. */
  static Optional<Instant> next(ManagedCertificate s, Rules rules) {
    CurrentCertificate current = s.getCurrent();
    if (!s.getManaged() || current == null || renewing(s) || failing(s)) {
      return Optional.empty();
    }
    return Optional.of(
        RenewalTime.due(
            s.getCertificateName(), current.getNotBefore(), current.getNotAfter(), rule(s, rules)));
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
    return spec == null ? Optional.empty() : rules.before(spec.getCaProfile());
  }
}
