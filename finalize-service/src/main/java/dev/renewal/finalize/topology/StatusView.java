package dev.renewal.finalize.topology;

import dev.renewal.events.CertificateIssued;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.OrderReady;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.RequestState;
import dev.renewal.events.RequestStatus;

/**
 * The rules of the {@code renewal.status} view: each event becomes the status it implies, and
 * {@link #newer} keeps the one that stands. The latest attempt wins; within an attempt a later
 * stage wins, ISSUED is final, and FAILED is final but for a certificate of the same attempt (which
 * wins) and a later failure (whose stage is then shown): a late or replayed event of an earlier
 * stage never moves a request back, in whatever order the events arrive.
 */
final class StatusView {
  private StatusView() {}

  static RequestStatus of(RenewalRequested r) {
    return base(r, RequestState.REQUESTED).setUpdatedAt(r.getOccurredAt()).build();
  }

  static RequestStatus of(OrderPlaced p) {
    return base(p.getRequest(), RequestState.ORDER_PLACED).setUpdatedAt(p.getOccurredAt()).build();
  }

  static RequestStatus of(OrderReady o) {
    return base(o.getPlaced().getRequest(), RequestState.READY)
        .setUpdatedAt(o.getOccurredAt())
        .build();
  }

  static RequestStatus of(CertificateIssued c) {
    return RequestStatus.newBuilder()
        .setRequestId(c.getRequestId())
        .setCertificateName(c.getCertificateName())
        .setAttempt(c.getAttempt())
        .setState(RequestState.ISSUED)
        .setSerialNumber(c.getSerialNumber())
        .setNotAfter(c.getNotAfter())
        .setUpdatedAt(c.getOccurredAt())
        .build();
  }

  static RequestStatus of(RenewalFailed f) {
    RequestStatus.Builder b =
        f.getRequest() == null
            ? RequestStatus.newBuilder().setRequestId(f.getRequestId()).setAttempt(1)
            : base(f.getRequest(), RequestState.FAILED);
    return b.setRequestId(f.getRequestId())
        .setState(RequestState.FAILED)
        .setFailedStage(f.getStage())
        .setProblemType(f.getProblem() == null ? null : f.getProblem().getType())
        .setRetryable(f.getRetryable())
        .setUpdatedAt(f.getOccurredAt())
        .build();
  }

  private static RequestStatus.Builder base(RenewalRequested r, RequestState state) {
    return RequestStatus.newBuilder()
        .setRequestId(r.getRequestId())
        .setCertificateName(r.getCertificateName())
        .setAttempt(r.getAttempt())
        .setRequestedAt(r.getOccurredAt())
        .setState(state);
  }

  static boolean isFinal(RequestState s) {
    return s == RequestState.ISSUED || s == RequestState.FAILED;
  }

  /** The status that stands when {@code next} arrives after {@code current}. */
  static RequestStatus newer(RequestStatus current, RequestStatus next) {
    boolean nextWins;
    if (next.getAttempt() != current.getAttempt()) {
      nextWins = next.getAttempt() > current.getAttempt();
    } else if (current.getState() == RequestState.ISSUED) {
      nextWins = false;
    } else if (current.getState() == RequestState.FAILED) {
      // A certificate of the same attempt outweighs a failure reported around it (a stage that
      // failed while another went on, or a failure a resumed flow outlived); of two failures, the
      // later one is the one that stands.
      nextWins =
          next.getState() == RequestState.ISSUED
              || (next.getState() == RequestState.FAILED
                  && !next.getUpdatedAt().isBefore(current.getUpdatedAt()));
    } else {
      nextWins = next.getState().ordinal() >= current.getState().ordinal();
    }
    if (!nextWins) {
      return current;
    }
    RequestStatus.Builder b = RequestStatus.newBuilder(next);
    if (next.getCertificateName() == null) {
      b.setCertificateName(current.getCertificateName());
    }
    if (next.getRequestedAt() == null && next.getAttempt() == current.getAttempt()) {
      b.setRequestedAt(current.getRequestedAt());
    }
    return b.build();
  }
}
