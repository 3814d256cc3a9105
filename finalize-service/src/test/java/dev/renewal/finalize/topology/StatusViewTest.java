package dev.renewal.finalize.topology;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.events.RequestState;
import dev.renewal.events.RequestStatus;
import dev.renewal.events.Stage;
import dev.renewal.testkit.Permutations;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link StatusView#newer} over every arrival order of one attempt's statuses. */
class StatusViewTest {
  static RequestStatus status(RequestState state, int second, Stage stage) {
    return RequestStatus.newBuilder()
        .setRequestId("r")
        .setAttempt(1)
        .setState(state)
        .setFailedStage(stage)
        .setUpdatedAt(Instant.EPOCH.plusSeconds(second))
        .build();
  }

  static RequestStatus fold(List<RequestStatus> arrivals) {
    RequestStatus now = arrivals.get(0);
    for (RequestStatus next : arrivals.subList(1, arrivals.size())) {
      now = StatusView.newer(now, next);
    }
    return now;
  }

  @Test
  void aCertificateOfTheAttemptStandsWhateverFailedAroundItAndInWhateverOrder() {
    List<RequestStatus> events =
        List.of(
            status(RequestState.REQUESTED, 0, null),
            status(RequestState.ORDER_PLACED, 1, null),
            status(RequestState.FAILED, 2, Stage.CHALLENGE),
            status(RequestState.READY, 3, null),
            status(RequestState.ISSUED, 4, null));
    List<List<RequestStatus>> orders = Permutations.of(events);
    assertThat(orders).hasSize(120);
    for (List<RequestStatus> order : orders) {
      assertThat(fold(order).getState()).as(order.toString()).isEqualTo(RequestState.ISSUED);
    }
  }

  @Test
  void withoutACertificateTheLastFailureStandsAndItsStageIsShown() {
    List<RequestStatus> events =
        List.of(
            status(RequestState.REQUESTED, 0, null),
            status(RequestState.FAILED, 2, Stage.CHALLENGE),
            status(RequestState.READY, 3, null),
            status(RequestState.FAILED, 5, Stage.FINALIZATION));
    for (List<RequestStatus> order : Permutations.of(events)) {
      RequestStatus end = fold(order);
      assertThat(end.getState()).as(order.toString()).isEqualTo(RequestState.FAILED);
      assertThat(end.getFailedStage()).as(order.toString()).isEqualTo(Stage.FINALIZATION);
    }
  }

  @Test
  void anIssuedRequestIsNotMovedBackByALateFailureOfTheSameAttempt() {
    RequestStatus issued = status(RequestState.ISSUED, 4, null);
    assertThat(StatusView.newer(issued, status(RequestState.FAILED, 9, Stage.CHALLENGE)))
        .isEqualTo(issued);
  }
}
