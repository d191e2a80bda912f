package dev.weir.metadata;

import static dev.weir.metadata.Batches.TIMESTAMP;
import static dev.weir.metadata.Batches.extend;
import static dev.weir.metadata.Batches.first;
import static dev.weir.metadata.Batches.plain;
import static dev.weir.metadata.Batches.wal;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

/**
 * The merge catalog: switching offset ranges to segments and rows kept in place, what is left to merge, the
 * newest objects, and compaction's clean offsets. Part of {@link MetadataStoreContract}.
 */
public interface MergeCatalogContract extends StoreFixture {
    @Test
    default void replacingBatchesSwitchesTheRangeToSegmentsAndRowsKeptInPlace() {
        Uuid orders = createTopic("orders", 2);
        PartitionKey zero = new PartitionKey(orders, 0);
        PartitionKey one = new PartitionKey(orders, 1);
        commit(first("wal/1", 400), plain(zero, 0, 100, 2), plain(zero, 100, 100, 1), plain(one, 200, 100, 1),
            plain(zero, 300, 100, 2));
        long wal1CommittedMs = clock().millis();
        clock().advance(Duration.ofSeconds(1));
        commit(first("wal/2", 200), plain(zero, 0, 100, 1), plain(zero, 100, 100, 2));
        SegmentRecord segment = new SegmentRecord("segment/1", zero, 0, 2, 150, clock().millis());
        BatchLocation segmentRow = new BatchLocation(0, 2, "segment/1", 0, 150, TIMESTAMP);
        BatchLocation keptInWal1 = new BatchLocation(3, 4, "wal/1", 300, 100, TIMESTAMP, true);

        assertThat(store().replaceBatches(zero, 0, 4, 3, List.of(new NewSegment(segment, List.of(segmentRow))),
            List.of(keptInWal1), List.of())).isTrue();

        assertThat(store().batchesFrom(zero, 0, 10)).containsExactly(segmentRow, keptInWal1, wal(5, 5, "wal/2", 0, 100),
            wal(6, 7, "wal/2", 100, 100));
        assertThat(store().segments(zero)).containsExactly(segment);
        assertThat(store().objectSize("segment/1")).isEqualTo(150);
        assertThat(store().committedObjectKeys()).containsExactlyInAnyOrder("wal/1", "wal/2", "segment/1");
        assertThat(store().partitionOffsets().get(zero)).isEqualTo(new PartitionOffsets(0, 8));
        assertThat(store().unmergedBytes("wal/1", "wal/2")).containsExactly(entry("wal/1", Map.of(one, 100L)),
            entry("wal/2", Map.of(zero, 200L)));
        assertThat(store().unmergedBytes("wal/2", "wal/9")).containsOnlyKeys("wal/2");
        assertThat(store().batchesInObjects(zero, "wal/1", "wal/2", 0, 10, false))
            .containsExactly(wal(5, 5, "wal/2", 0, 100), wal(6, 7, "wal/2", 100, 100));
        assertThat(store().batchesInObjects(zero, "wal/1", "wal/2", 0, 2, true))
            .containsExactly(keptInWal1, wal(5, 5, "wal/2", 0, 100));
        assertThat(store().batchesInObjects(zero, "wal/1", "wal/2", 6, 10, true)).containsExactly(wal(6, 7, "wal/2", 100, 100));
        assertThat(store().batchesInObjects(zero, "wal/2", "wal/2", 0, 10, true)).hasSize(2);
        assertThat(store().rowsKeptInPlaceIn("wal/1")).containsOnly(entry(zero, List.of(keptInWal1)));
        assertThat(store().rowsKeptInPlaceIn("wal/2")).isEmpty();
        assertThat(store().objectsWithRowsKeptInPlace("", "wal/9", 10))
            .containsExactly(new WalFileUse("wal/1", 400, wal1CommittedMs, 200));

        // The rest of wal/2 kept in place too: both files now hold rows kept in place.
        BatchLocation keptInWal2 = new BatchLocation(5, 7, "wal/2", 0, 200, TIMESTAMP, true);
        assertThat(store().replaceBatches(zero, 5, 7, 2, List.of(), List.of(keptInWal2), List.of())).isTrue();
        assertThat(store().unmergedBytes("wal/1", "wal/2")).containsOnlyKeys("wal/1");
        assertThat(store().objectsWithRowsKeptInPlace("", "wal/9", 1)).extracting(WalFileUse::objectKey)
            .containsExactly("wal/1");
        assertThat(store().objectsWithRowsKeptInPlace("wal/1", "wal/9", 10)).extracting(WalFileUse::objectKey)
            .containsExactly("wal/2");
        assertThat(store().objectsWithRowsKeptInPlace("", "wal/1", 10)).extracting(WalFileUse::objectKey)
            .containsExactly("wal/1");
        assertThat(store().batchesInObjects(zero, "wal/1", "wal/2", 0, 10, false)).isEmpty();
    }

    @Test
    default void replacingBatchesChangesNothingUnlessTheRangeHoldsTheExpectedRows() {
        Uuid orders = createTopic("orders", 1);
        PartitionKey zero = new PartitionKey(orders, 0);
        commit(first("wal/1", 300), plain(zero, 0, 100, 1), plain(zero, 100, 100, 1), plain(zero, 200, 100, 1));
        NewSegment segment = new NewSegment(new SegmentRecord("segment/1", zero, 0, 2, 250, START_MS),
            List.of(new BatchLocation(0, 2, "segment/1", 0, 250, TIMESTAMP)));
        store().advanceLogStartOffset(zero, 1);

        assertThat(store().replaceBatches(zero, 0, 2, 3, List.of(segment), List.of(), List.of())).isFalse();
        assertThat(store().replaceBatches(zero, 0, 2, 1, List.of(segment), List.of(), List.of())).isFalse();
        assertThat(store().segments(zero)).isEmpty();
        assertThat(store().committedObjectKeys()).containsExactly("wal/1");
        assertThat(store().batchesFrom(zero, 0, 10)).containsExactly(wal(1, 1, "wal/1", 100, 100), wal(2, 2, "wal/1", 200, 100));

        store().deleteTopic(orders);
        assertThat(store().replaceBatches(zero, 0, 2, 0, List.of(segment), List.of(), List.of())).isFalse();
        assertThat(store().committedObjectKeys()).containsExactly("wal/1");
    }

    @Test
    default void aSegmentReplacedByCompactionIsNoSegmentAnyMoreAndIsCollectedOnceUnreferenced() {
        PartitionKey zero = new PartitionKey(createTopic("orders", 1), 0);
        commit(first("wal/1", 200), plain(zero, 0, 100, 2), plain(zero, 100, 100, 1));
        SegmentRecord merged = new SegmentRecord("segment/1", zero, 0, 2, 190, START_MS);
        SegmentRecord compacted = new SegmentRecord("segment/2", zero, 0, 2, 60, START_MS);
        assertThat(store().replaceBatches(zero, 0, 2, 2, List.of(new NewSegment(merged,
            List.of(new BatchLocation(0, 2, "segment/1", 0, 190, TIMESTAMP)))), List.of(), List.of())).isTrue();

        assertThat(store().replaceBatches(zero, 0, 2, 1, List.of(new NewSegment(compacted,
            List.of(new BatchLocation(2, 2, "segment/2", 0, 60, TIMESTAMP)))), List.of(), List.of("segment/1"))).isTrue();

        assertThat(store().segments(zero)).containsExactly(compacted);
        assertThat(store().batchesFrom(zero, 0, 10)).containsExactly(new BatchLocation(2, 2, "segment/2", 0, 60, TIMESTAMP));
        assertThat(store().unreferencedObjects(clock().millis(), clock().millis()))
            .containsExactlyInAnyOrder("wal/1", "segment/1");
        assertThat(store().forgetObject("segment/1")).isTrue();
        assertThat(store().forgetObject("segment/2")).isFalse();
        assertThat(store().committedObjectKeys()).containsExactlyInAnyOrder("wal/1", "segment/2");
    }

    @Test
    default void theNewestObjectIsTheLargestKeyUnderThePrefixWrittenByTheTime() {
        PartitionKey zero = new PartitionKey(createTopic("orders", 1), 0);
        commitOne(first("wal/0001", 100), plain(zero, 0, 100, 1));
        clock().advance(Duration.ofSeconds(1));
        commitOne(first("wal/0002", 100), plain(zero, 0, 100, 1));
        commit(first("walx/0009", 10));
        NewSegment segment = new NewSegment(new SegmentRecord("segment/0001", zero, 0, 0, 90, START_MS + 2000),
            List.of(new BatchLocation(0, 0, "segment/0001", 0, 90, TIMESTAMP)));
        assertThat(store().replaceBatches(zero, 0, 0, 1, List.of(segment), List.of(), List.of())).isTrue();

        assertThat(store().newestObject("wal/", START_MS - 1)).isEmpty();
        assertThat(store().newestObject("wal/", START_MS)).contains("wal/0001");
        assertThat(store().newestObject("wal/", START_MS + 1000)).contains("wal/0002");
        assertThat(store().newestObject("segment/", START_MS + 1999)).isEmpty();
        assertThat(store().newestObject("segment/", START_MS + 2000)).contains("segment/0001");
        assertThat(store().newestObject("wa_/", Long.MAX_VALUE)).isEmpty();
        assertThat(store().newestObject("wal", Long.MAX_VALUE)).contains("walx/0009");

        clock().advance(Duration.ofSeconds(2));
        commitOne(extend("wal/0001", 200), plain(zero, 100, 100, 1));
        assertThat(store().newestObject("wal/", START_MS + 500)).isEmpty();
    }

    @Test
    default void theCleanOffsetIsZeroUntilSet() throws Exception {
        Uuid orders = createTopic("orders", 2);
        PartitionKey zero = new PartitionKey(orders, 0);
        assertThat(store().cleanOffset(zero)).isZero();

        store().setCleanOffset(zero, 42);
        reopen();

        assertThat(store().cleanOffset(zero)).isEqualTo(42);
        assertThat(store().cleanOffset(new PartitionKey(orders, 1))).isZero();
        assertThat(store().cleanOffset(new PartitionKey(Uuid.randomUuid(), 0))).isZero();
    }
}
