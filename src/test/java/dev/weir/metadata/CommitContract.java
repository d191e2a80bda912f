package dev.weir.metadata;

import static dev.weir.metadata.Batches.extend;
import static dev.weir.metadata.Batches.first;
import static dev.weir.metadata.Batches.idempotent;
import static dev.weir.metadata.Batches.plain;
import static dev.weir.metadata.Batches.wal;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

/**
 * The batch coordinator's commits: offsets assigned in order, WAL files recorded and extended, what survives
 * reopening, retention, and producer ids. Part of {@link MetadataStoreContract}.
 */
public interface CommitContract extends StoreFixture {
    @Test
    default void offsetsAreAssignedInCommitOrderAndEachPartitionStaysContiguous() {
        Uuid orders = createTopic("orders", 2);
        PartitionKey zero = new PartitionKey(orders, 0);
        PartitionKey one = new PartitionKey(orders, 1);

        List<AppendOutcome> first = commit(first("wal/1", 300), plain(zero, 0, 100, 3), plain(one, 100, 100, 2),
            plain(zero, 200, 100, 1));
        List<AppendOutcome> second = commit(extend("wal/1", 500), plain(one, 300, 100, 4), plain(zero, 400, 100, 2));
        List<AppendOutcome> third = commit(first("wal/2", 50), plain(zero, 0, 50, 1));

        assertThat(first).containsExactly(AppendOutcome.appended(0, 0), AppendOutcome.appended(0, 0),
            AppendOutcome.appended(3, 0));
        assertThat(second).containsExactly(AppendOutcome.appended(2, 0), AppendOutcome.appended(4, 0));
        assertThat(third).containsExactly(AppendOutcome.appended(6, 0));
        assertThat(store().partitionOffsets()).containsOnly(entry(zero, new PartitionOffsets(0, 7)),
            entry(one, new PartitionOffsets(0, 6)));
        assertThat(store().batchesFrom(zero, 0, 10)).containsExactly(wal(0, 2, "wal/1", 0, 100), wal(3, 3, "wal/1", 200, 100),
            wal(4, 5, "wal/1", 400, 100), wal(6, 6, "wal/2", 0, 50));
        assertThat(store().batchesFrom(one, 0, 10)).containsExactly(wal(0, 1, "wal/1", 100, 100),
            wal(2, 5, "wal/1", 300, 100));
    }

    @Test
    default void aFilesFirstObjectRecordsTheFileAndLaterOnesExtendIt() {
        PartitionKey zero = new PartitionKey(createTopic("orders", 1), 0);
        assertThat(store().lastWalFile()).isEmpty();
        assertThat(store().objectSize("wal/1")).isEqualTo(-1);

        commitOne(first("wal/1", 100), plain(zero, 0, 100, 1));
        assertThat(store().objectSize("wal/1")).isEqualTo(100);
        assertThat(store().lastWalFile()).contains("wal/1");
        assertThat(store().newestObject("wal/", START_MS)).contains("wal/1");

        clock().advance(Duration.ofSeconds(1));
        commitOne(extend("wal/1", 250), plain(zero, 100, 150, 1));
        assertThat(store().objectSize("wal/1")).isEqualTo(250);
        // The file counts as written when its last object was committed.
        assertThat(store().newestObject("wal/", START_MS)).isEmpty();

        commitOne(first("wal/2", 80), plain(zero, 0, 80, 1));
        commitOne(extend("wal/1", 300), plain(zero, 250, 50, 1));
        assertThat(store().lastWalFile()).contains("wal/2");
        assertThat(store().committedObjectKeys()).containsExactlyInAnyOrder("wal/1", "wal/2");
        assertThat(store().objectSize("wal/1")).isEqualTo(300);
    }

    @Test
    default void anObjectOfItsOwnIsRecordedWithoutBecomingTheLastWalFile() {
        PartitionKey zero = new PartitionKey(createTopic("orders", 1), 0);
        commitOne(first("wal/1", 100), plain(zero, 0, 100, 1));
        commitOne(new WalWrite("wal/2", 80, true, true, false), plain(zero, 0, 80, 1));
        assertThat(store().lastWalFile()).contains("wal/1");
        assertThat(store().objectSize("wal/2")).isEqualTo(80);
        assertThat(store().committedObjectKeys()).containsExactlyInAnyOrder("wal/1", "wal/2");
        assertThat(store().partitionOffsets()).containsEntry(zero, new PartitionOffsets(0, 2));
    }

    @Test
    default void extendingAFileThatIsNotRecordedFailsAndLeavesNothing() {
        Uuid orders = createTopic("orders", 2);
        PartitionKey zero = new PartitionKey(orders, 0);
        PartitionKey one = new PartitionKey(orders, 1);
        long producerId = store().nextProducerId();
        commitOne(first("wal/1", 100), plain(zero, 0, 100, 1));
        store().advanceLogStartOffset(zero, 1);
        assertThat(store().unreferencedObjects(clock().millis(), clock().millis())).containsExactly("wal/1");
        assertThat(store().forgetObject("wal/1")).isTrue();

        assertThatThrownBy(() -> commit(extend("wal/1", 300), plain(zero, 100, 100, 1),
            idempotent(one, 200, producerId, 0, 0, 1))).isInstanceOf(MetadataException.class);
        assertThatThrownBy(() -> commit(extend("wal/never", 100), plain(zero, 0, 100, 1)))
            .isInstanceOf(MetadataException.class);

        assertThat(store().partitionOffsets()).containsOnly(entry(zero, new PartitionOffsets(1, 1)),
            entry(one, new PartitionOffsets(0, 0)));
        assertThat(store().batchesFrom(zero, 0, 10)).isEmpty();
        assertThat(store().batchesFrom(one, 0, 10)).isEmpty();
        assertThat(store().committedObjectKeys()).isEmpty();
        // Nor was the producer's batch recorded: sent again, it is new, not a duplicate.
        assertThat(commitOne(first("wal/2", 100), idempotent(one, 0, producerId, 0, 0, 1)))
            .isEqualTo(AppendOutcome.appended(0, 0));
    }

    @Test
    default void aBatchForAPartitionThatIsGoneFailsAloneAndTheOthersCommit() {
        Uuid kept = createTopic("kept", 1);
        Uuid doomed = createTopic("doomed", 1);
        PartitionKey kept0 = new PartitionKey(kept, 0);
        store().deleteTopic(doomed);

        List<AppendOutcome> outcomes = commit(first("wal/1", 400), plain(kept0, 0, 100, 2),
            plain(new PartitionKey(doomed, 0), 100, 100, 1), plain(new PartitionKey(kept, 5), 200, 100, 1),
            plain(kept0, 300, 100, 1));

        assertThat(outcomes.get(0)).isEqualTo(AppendOutcome.appended(0, 0));
        assertThat(outcomes.get(1).failure()).isEqualTo(AppendFailure.PARTITION_DELETED);
        assertThat(outcomes.get(1).baseOffset()).isEqualTo(-1);
        assertThat(outcomes.get(2).failure()).isEqualTo(AppendFailure.PARTITION_DELETED);
        assertThat(outcomes.get(3)).isEqualTo(AppendOutcome.appended(2, 0));
        assertThat(store().partitionOffsets()).containsOnly(entry(kept0, new PartitionOffsets(0, 3)));
        assertThat(store().batchesFrom(kept0, 0, 10)).extracting(BatchLocation::position).containsExactly(0L, 300L);
    }

    @Test
    default void offsetsTheLastWalFileAndTheClusterIdSurviveReopening() throws Exception {
        Uuid orders = createTopic("orders", 2);
        PartitionKey zero = new PartitionKey(orders, 0);
        PartitionKey one = new PartitionKey(orders, 1);
        commit(first("wal/1", 300), plain(zero, 0, 100, 3), plain(one, 100, 100, 2), plain(zero, 200, 100, 4));
        store().advanceLogStartOffset(zero, 3);
        Map<PartitionKey, PartitionOffsets> offsets = store().partitionOffsets();
        String clusterId = store().clusterId();

        reopen();

        assertThat(store().partitionOffsets()).isEqualTo(offsets).containsEntry(zero, new PartitionOffsets(3, 7));
        assertThat(store().clusterId()).isEqualTo(clusterId);
        assertThat(store().lastWalFile()).contains("wal/1");
        assertThat(commitOne(extend("wal/1", 400), plain(zero, 300, 100, 1))).isEqualTo(AppendOutcome.appended(7, 3));
    }

    @Test
    default void eachDatabaseHasAClusterIdOfItsOwn() throws Exception {
        String clusterId = store().clusterId();
        assertThat(Uuid.fromString(clusterId).toString()).isEqualTo(clusterId);
        try (MetadataStore other = openAnotherDatabase()) {
            assertThat(other.clusterId()).isNotEqualTo(clusterId);
        }
    }

    @Test
    default void producerIdsAreNeverHandedOutTwice() throws Exception {
        Set<Long> ids = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            ids.add(store().nextProducerId());
        }
        reopen();
        for (int i = 0; i < 20; i++) {
            ids.add(store().nextProducerId());
        }
        assertThat(ids).hasSize(40).allMatch(id -> id >= 0);
    }

    @Test
    default void theLogStartOffsetMovesForwardOnlyAndDropsWholeBatchesBeforeIt() throws Exception {
        PartitionKey zero = new PartitionKey(createTopic("orders", 1), 0);
        commit(first("wal/1", 300), plain(zero, 0, 100, 3), plain(zero, 100, 100, 2), plain(zero, 200, 100, 5));

        assertThat(store().advanceLogStartOffset(zero, 4)).isEqualTo(4);
        assertThat(store().batchesFrom(zero, 0, 10)).containsExactly(wal(3, 4, "wal/1", 100, 100),
            wal(5, 9, "wal/1", 200, 100));
        assertThat(store().partitionOffsets().get(zero)).isEqualTo(new PartitionOffsets(4, 10));
        assertThat(store().advanceLogStartOffset(zero, 2)).isEqualTo(4);
        assertThat(store().partitionOffsets().get(zero)).isEqualTo(new PartitionOffsets(4, 10));
        // Past the log end is the caller's bug, not a database failure: nothing changes.
        assertThatThrownBy(() -> store().advanceLogStartOffset(zero, 11)).isInstanceOf(IllegalArgumentException.class);
        assertThat(store().partitionOffsets().get(zero)).isEqualTo(new PartitionOffsets(4, 10));
        assertThatThrownBy(() -> store().advanceLogStartOffset(new PartitionKey(Uuid.randomUuid(), 0), 1))
            .isInstanceOf(MetadataException.class);

        assertThat(store().advanceLogStartOffset(zero, 10)).isEqualTo(10);
        assertThat(store().batchesFrom(zero, 0, 10)).isEmpty();
        assertThat(store().partitionBytes(zero)).isZero();
        assertThat(commitOne(extend("wal/1", 400), plain(zero, 300, 100, 1))).isEqualTo(AppendOutcome.appended(10, 10));
        reopen();
        assertThat(store().partitionOffsets().get(zero)).isEqualTo(new PartitionOffsets(10, 11));
    }
}
