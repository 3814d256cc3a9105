package dev.renewal.contract;

import dev.renewal.events.Problem;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.Stage;
import java.time.Instant;
import java.util.UUID;

/**
 * The one way a {@link RenewalFailed} is built, whichever stage writes it (order-service,
 * challenge-service, the reconciliation, the finalization worker): the original request rides
 * along, so that the failure can be replayed.
 */
public final class RenewalFailures {
  private RenewalFailures() {}

  /**
   * @param orderUrl the order, if one was placed (else null)
   * @param authorizationUrl the authorization the failure is about (else null)
   */
  public static RenewalFailed event(
      Instant at,
      RenewalRequested request,
      Stage stage,
      Problem problem,
      boolean retryable,
      String orderUrl,
      String authorizationUrl) {
    return RenewalFailed.newBuilder()
        .setEventId(UUID.randomUUID().toString())
        .setRequestId(request.getRequestId())
        .setOccurredAt(at)
        .setStage(stage)
        .setProblem(problem)
        .setRetryable(retryable)
        .setOrderUrl(orderUrl)
        .setAuthorizationUrl(authorizationUrl)
        .setRequest(request)
        .build();
  }

  /** A problem the pipeline describes itself (no problem document from the CA). */
  public static Problem problem(String type, String detail) {
    return Problem.newBuilder().setType(type).setDetail(detail).build();
  }
}
