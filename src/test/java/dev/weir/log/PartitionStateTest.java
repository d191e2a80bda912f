package dev.weir.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
    void aSkipPastOffsetsCommittedUnheardSendsReadsBelowItToTheIndex() {
        PartitionState state = withBatches(10, 1000);
        // Offsets 20 to 29 were committed by a commit whose answer was lost.
        state.skipTo(30);
        assertThat(state.highWatermark()).isEqualTo(30);
        assertThat(state.tailFrom(19, 10)).as("below the skip: the index database").isNull();
        assertThat(state.tailFrom(30, 10)).isEmpty();
        state.committed(new BatchLocation(30, 31, "wal/15", 0, 100, 15), 1000);
        assertThat(baseOffsets(state.tailFrom(30, 10))).containsExactly(30L);
        assertThat(state.highWatermark()).isEqualTo(32);
        assertThatThrownBy(() -> state.skipTo(31)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> state.committed(batch(20), 1000)).as("a gap not skipped is a bug")
            .isInstanceOf(IllegalStateException.class);
    }
}
