package dev.weir.log;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.metadata.BatchLocation;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The in-memory tail of a partition's batch index: lookups as it grows, wraps, trims and shrinks. */
class PartitionStateTest {
    /** Batch {@code i} holds offsets {@code 2i} and {@code 2i + 1}. */
    private static BatchLocation batch(int i) {
        return new BatchLocation(2L * i, 2L * i + 1, "wal/" + i, 100L * i, 100, i);
    }

    private static PartitionState withBatches(int count, int maxTailBatches) {
        PartitionState state = new PartitionState(0, 0);
        for (int i = 0; i < count; i++) {
            state.committed(batch(i), maxTailBatches);
        }
        return state;
    }

    private static List<Long> baseOffsets(List<BatchLocation> batches) {
        return batches.stream().map(BatchLocation::baseOffset).toList();
    }

    @Test
    void findsTheBatchHoldingAnOffsetAndThoseAfterIt() {
        PartitionState state = withBatches(100, 1000);
        assertThat(state.highWatermark()).isEqualTo(200);
        assertThat(baseOffsets(state.tailFrom(0, 3))).containsExactly(0L, 2L, 4L);
        assertThat(baseOffsets(state.tailFrom(5, 3))).containsExactly(4L, 6L, 8L);
        assertThat(baseOffsets(state.tailFrom(199, 3))).containsExactly(198L);
        assertThat(state.tailFrom(200, 3)).isEmpty();
        assertThat(state.tailFrom(0, 1000)).hasSize(100);
    }

    @Test
    void aTailTrimmedToItsBudgetWrapsAroundAndAnswersNullBeforeItsStart() {
        // Sixteen places, a hundred batches: the ring wraps many times.
        PartitionState state = withBatches(100, 16);
        assertThat(state.tailFrom(167, 4)).isNull();
        assertThat(baseOffsets(state.tailFrom(168, 4))).containsExactly(168L, 170L, 172L, 174L);
        assertThat(baseOffsets(state.tailFrom(195, 100))).containsExactly(194L, 196L, 198L);
        assertThat(state.tailFrom(0, 100)).isNull();
    }

    @Test
    void mergingAndDeletingRecordsMoveTheTailStart() {
        PartitionState state = withBatches(1000, 8192);
        // Merging all but the last batches shrinks the ring; what is left is still found.
        state.merged(1989);
        assertThat(state.tailFrom(1989, 10)).isNull();
        assertThat(baseOffsets(state.tailFrom(1990, 10))).containsExactly(1990L, 1992L, 1994L, 1996L, 1998L);
        // A batch committed after its offsets were merged (a late commit) stays out of the tail.
        PartitionState late = new PartitionState(0, 0);
        late.merged(1);
        late.committed(batch(0), 16);
        late.committed(batch(1), 16);
        assertThat(late.tailFrom(1, 10)).isNull();
        assertThat(baseOffsets(late.tailFrom(2, 10))).containsExactly(2L);

        state.logStartMoved(1995);
        assertThat(state.logStartOffset()).isEqualTo(1995);
        assertThat(baseOffsets(state.tailFrom(1995, 10))).containsExactly(1994L, 1996L, 1998L);
        state.logStartMoved(2000);
        assertThat(state.tailFrom(1999, 10)).isNull();
        assertThat(state.tailFrom(2000, 10)).isEmpty();
        state.committed(batch(1000), 8192);
        assertThat(baseOffsets(state.tailFrom(2000, 10))).containsExactly(2000L);
    }

    @Test
    void anotherBrokersCommitsMoveTheHighWatermarkAndTheTailStartsOverAfterThem() {
        PartitionState state = withBatches(5, 1000);
        assertThat(state.highWatermark()).isEqualTo(10);

        assertThat(state.committedElsewhere(14)).isTrue();
        assertThat(state.highWatermark()).isEqualTo(14);
        assertThat(state.tailFrom(4, 10)).as("the tail knows none of the other broker's batches").isNull();
        assertThat(state.committedElsewhere(12)).as("known already").isFalse();
        assertThat(state.highWatermark()).isEqualTo(14);

        // This broker's own commit, noticed from the database before its own listener ran, is not added twice.
        state.committed(batch(6), 1000);
        assertThat(state.highWatermark()).isEqualTo(14);
        state.committed(batch(7), 1000);
        assertThat(baseOffsets(state.tailFrom(14, 10))).containsExactly(14L);

        // A commit after a gap (another broker's commits between, not noticed yet) starts the tail over at it.
        state.committed(batch(9), 1000);
        assertThat(state.highWatermark()).isEqualTo(20);
        assertThat(state.tailFrom(15, 10)).isNull();
        assertThat(baseOffsets(state.tailFrom(18, 10))).containsExactly(18L);
    }
}
