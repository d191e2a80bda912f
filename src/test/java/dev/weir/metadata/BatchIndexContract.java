package dev.weir.metadata;

import static dev.weir.metadata.Batches.first;
import static dev.weir.metadata.Batches.plain;
import static dev.weir.metadata.Batches.wal;
import static org.assertj.core.api.Assertions.assertThat;

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
