package dev.renewal.topics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class OffsetTrackerTest {
  private final TopicPartition p0 = new TopicPartition("t", 0);
  private final TopicPartition p1 = new TopicPartition("t", 1);
  private final OffsetTracker tracker = new OffsetTracker();

  @Test
  void commitsOnlyUpToTheOldestRecordStillInProgress() {
    tracker.started(p0, 10);
    tracker.started(p0, 11);
    tracker.started(p0, 12);
    tracker.finished(p0, 12);
    tracker.finished(p0, 11);
    assertThat(tracker.committable(p0)).contains(10L);
    tracker.finished(p0, 10);
    assertThat(tracker.committable(p0)).contains(13L);
  }

  @Test
  void drainingMarksOffsetsCommittedAndReportsOnlyMovement() {
    tracker.started(p0, 0);
    tracker.started(p1, 5);
    tracker.finished(p0, 0);
    assertThat(tracker.drainCommittable()).isEqualTo(Map.of(p0, 1L, p1, 5L));
    assertThat(tracker.drainCommittable()).isEmpty();
    tracker.finished(p1, 5);
    assertThat(tracker.drainCommittable()).isEqualTo(Map.of(p1, 6L));
    assertThat(tracker.inProgress()).isZero();
  }

  @Test
  void aForgottenPartitionHasNothingToCommit() {
    tracker.started(p0, 3);
    tracker.forget(p0);
    assertThat(tracker.committable(p0)).isEmpty();
    assertThat(tracker.inProgress()).isZero();
  }
}
