package dev.weir.metadata;

import static dev.weir.metadata.Batches.TIMESTAMP;
import static dev.weir.metadata.Batches.first;
import static dev.weir.metadata.Batches.plain;
import static dev.weir.metadata.Batches.wal;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

/**
 * The batch index: batches by offset and by timestamp. Part of {@link MetadataStoreContract}.
 */
public interface BatchIndexContract extends StoreFixture {
    @Test
    default void batchesFromAnOffsetInsideABatchStartWithThatBatch() {
        PartitionKey zero = new PartitionKey(createTopic("orders", 1), 0);
        commit(first("wal/1", 300), plain(zero, 0, 100, 3), plain(zero, 100, 100, 1), plain(zero, 200, 100, 6));
        BatchLocation first = wal(0, 2, "wal/1", 0, 100);
        BatchLocation second = wal(3, 3, "wal/1", 100, 100);
        BatchLocation third = wal(4, 9, "wal/1", 200, 100);

        assertThat(store().batchesFrom(zero, 0, 10)).containsExactly(first, second, third);
        assertThat(store().batchesFrom(zero, 1, 10)).containsExactly(first, second, third);
        assertThat(store().batchesFrom(zero, 3, 10)).containsExactly(second, third);
        assertThat(store().batchesFrom(zero, 5, 10)).containsExactly(third);
        assertThat(store().batchesFrom(zero, 7, 1)).containsExactly(third);
        assertThat(store().batchesFrom(zero, 2, 2)).containsExactly(first, second);
        assertThat(store().batchesFrom(zero, 10, 10)).isEmpty();
        assertThat(store().batchesFrom(new PartitionKey(Uuid.randomUuid(), 0), 0, 10)).isEmpty();
    }

    /**
     * Compaction drops batches whose records are all superseded, which leaves gaps between index rows. A
     * reader that stands in a gap (its position was the next offset after a row) still gets a full page
     * of the batches after it: the index's readers take a page shorter than they asked for as the end.
     */
    @Test
    default void anOffsetInAGapBetweenRowsGetsAFullPageOfTheBatchesAfterIt() {
        PartitionKey zero = new PartitionKey(createTopic("orders", 1), 0);
        commit(first("wal/1", 400), plain(zero, 0, 100, 3), plain(zero, 100, 100, 1), plain(zero, 200, 100, 2),
            plain(zero, 300, 100, 4));
        BatchLocation first = new BatchLocation(0, 2, "segment/1", 0, 80, TIMESTAMP);
        BatchLocation third = new BatchLocation(4, 5, "segment/1", 80, 60, TIMESTAMP);
        BatchLocation fourth = new BatchLocation(6, 9, "segment/1", 140, 90, TIMESTAMP);
        SegmentRecord compacted = new SegmentRecord("segment/1", zero, 0, 9, 230, START_MS);
        assertThat(store().replaceBatches(zero, 0, 9, 4, List.of(new NewSegment(compacted,
            List.of(first, third, fourth))), List.of(), List.of())).isTrue();

        assertThat(store().batchesFrom(zero, 3, 1)).containsExactly(third);
        assertThat(store().batchesFrom(zero, 3, 2)).containsExactly(third, fourth);
        assertThat(store().batchesFrom(zero, 2, 2)).containsExactly(first, third);
        assertThat(store().batchesFrom(zero, 10, 1)).isEmpty();
    }

    @Test
    default void batchesAreFoundByTheirLargestTimestamp() {
        PartitionKey zero = new PartitionKey(createTopic("orders", 1), 0);
        commit(first("wal/1", 400), plain(zero, 0, 100, 2, 100), plain(zero, 100, 110, 3, 300),
            plain(zero, 200, 120, 1, 200), plain(zero, 300, 130, 2, 300));
        BatchLocation second = new BatchLocation(2, 4, "wal/1", 100, 110, 300);
        BatchLocation third = new BatchLocation(5, 5, "wal/1", 200, 120, 200);
        BatchLocation fourth = new BatchLocation(6, 7, "wal/1", 300, 130, 300);

        assertThat(store().firstBatchWithTimestampAtLeast(zero, 150, 0)).contains(second);
        assertThat(store().firstBatchWithTimestampAtLeast(zero, 100, 3)).contains(second);
        assertThat(store().firstBatchWithTimestampAtLeast(zero, 150, 5)).contains(third);
        assertThat(store().firstBatchWithTimestampAtLeast(zero, 301, 0)).isEmpty();
        assertThat(store().batchWithMaxTimestamp(zero, 0)).contains(second);
        assertThat(store().batchWithMaxTimestamp(zero, 5)).contains(fourth);
        assertThat(store().batchWithMaxTimestamp(zero, 8)).isEmpty();
        assertThat(store().partitionBytes(zero)).isEqualTo(460);
    }
}
