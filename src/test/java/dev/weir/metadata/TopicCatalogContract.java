package dev.weir.metadata;

import static dev.weir.metadata.Batches.TIMESTAMP;
import static dev.weir.metadata.Batches.extend;
import static dev.weir.metadata.Batches.first;
import static dev.weir.metadata.Batches.idempotent;
import static dev.weir.metadata.Batches.plain;
import static dev.weir.metadata.Batches.wal;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

/**
 * The topic catalog: topics, their partitions and configs, and what deleting a topic removes. Part of
 * {@link MetadataStoreContract}.
 */
public interface TopicCatalogContract extends StoreFixture {
    @Test
    default void createdTopicsAreListedWithTheirPartitionsAndConfigs() {
        Uuid orders = createTopic("orders", 3, Map.of("retention.ms", "1000", "cleanup.policy", "delete"));
        Uuid events = createTopic("events", 1);

        assertThat(store().topics()).containsExactlyInAnyOrder(
            new TopicRecord(orders, "orders", 3, Map.of("retention.ms", "1000", "cleanup.policy", "delete"), START_MS),
            new TopicRecord(events, "events", 1, Map.of(), START_MS));
        PartitionOffsets empty = new PartitionOffsets(0, 0);
        assertThat(store().partitionOffsets()).containsOnly(entry(new PartitionKey(orders, 0), empty),
            entry(new PartitionKey(orders, 1), empty), entry(new PartitionKey(orders, 2), empty),
            entry(new PartitionKey(events, 0), empty));
    }

    @Test
    default void aTopicNameIsTakenOnce() {
        Uuid orders = createTopic("orders", 1);

        assertThatThrownBy(() -> store().createTopic(new TopicRecord(Uuid.randomUuid(), "orders", 2, Map.of("a", "b"), 0)))
            .isInstanceOf(TopicExistsException.class).hasMessageContaining("orders");
        assertThat(store().topics()).containsExactly(new TopicRecord(orders, "orders", 1, Map.of(), START_MS));
        assertThat(store().partitionOffsets()).containsOnlyKeys(new PartitionKey(orders, 0));
    }

    @Test
    default void replacingConfigsReplacesTheWholeSet() throws Exception {
        Uuid orders = createTopic("orders", 1, Map.of("retention.ms", "1000", "segment.bytes", "100"));
        Uuid events = createTopic("events", 1, Map.of("retention.ms", "5"));

        store().replaceTopicConfigs(orders, Map.of("retention.ms", "2000", "cleanup.policy", "compact"));
        assertThat(configsOf(orders)).isEqualTo(Map.of("retention.ms", "2000", "cleanup.policy", "compact"));
        store().replaceTopicConfigs(orders, Map.of());
        reopen();
        assertThat(configsOf(orders)).isEmpty();
        assertThat(configsOf(events)).isEqualTo(Map.of("retention.ms", "5"));
    }

    @Test
    default void partitionsAreAddedEmptyAndNeverTakenAway() {
        Uuid orders = createTopic("orders", 2);
        PartitionKey zero = new PartitionKey(orders, 0);
        commitOne(first("wal/1", 100), plain(zero, 0, 100, 5));

        store().addPartitions(orders, 4);
        assertThat(store().topics()).extracting(TopicRecord::partitions).containsExactly(4);
        assertThat(store().partitionOffsets()).containsOnly(entry(zero, new PartitionOffsets(0, 5)),
            entry(new PartitionKey(orders, 1), new PartitionOffsets(0, 0)),
            entry(new PartitionKey(orders, 2), new PartitionOffsets(0, 0)),
            entry(new PartitionKey(orders, 3), new PartitionOffsets(0, 0)));
        assertThat(commitOne(extend("wal/1", 200), plain(new PartitionKey(orders, 3), 100, 100, 1)).baseOffset())
            .isZero();

        assertThatThrownBy(() -> store().addPartitions(orders, 4)).isInstanceOf(MetadataException.class);
        assertThatThrownBy(() -> store().addPartitions(orders, 3)).isInstanceOf(MetadataException.class);
        assertThatThrownBy(() -> store().addPartitions(Uuid.randomUuid(), 5)).isInstanceOf(MetadataException.class);
        assertThat(store().topics()).extracting(TopicRecord::partitions).containsExactly(4);
        assertThat(store().partitionOffsets()).hasSize(4);
    }

    @Test
    default void deletingATopicRemovesItsPartitionsBatchesProducerStateAndSegments() throws Exception {
        Uuid doomed = createTopic("doomed", 2, Map.of("retention.ms", "1"));
        Uuid kept = createTopic("kept", 1);
        PartitionKey doomed0 = new PartitionKey(doomed, 0);
        PartitionKey doomed1 = new PartitionKey(doomed, 1);
        PartitionKey kept0 = new PartitionKey(kept, 0);
        long producerId = store().nextProducerId();
        commit(first("wal/1", 300), idempotent(doomed0, 0, producerId, 0, 0, 3), plain(doomed1, 100, 100, 2),
            plain(kept0, 200, 100, 4));
        NewSegment segment = new NewSegment(new SegmentRecord("segment/1", doomed1, 0, 1, 90, START_MS),
            List.of(new BatchLocation(0, 1, "segment/1", 0, 90, TIMESTAMP)));
        assertThat(store().replaceBatches(doomed1, 0, 1, 1, List.of(segment), List.of(), List.of())).isTrue();

        store().deleteTopic(doomed);

        assertThat(store().topics()).extracting(TopicRecord::id).containsExactly(kept);
        assertThat(store().partitionOffsets()).containsOnlyKeys(kept0);
        assertThat(store().batchesFrom(doomed0, 0, 10)).isEmpty();
        assertThat(store().batchesFrom(doomed1, 0, 10)).isEmpty();
        assertThat(store().partitionBytes(doomed0)).isZero();
        assertThat(store().segments(doomed1)).isEmpty();
        assertThat(rowsIn("producer_state")).isZero();
        assertThat(rowsIn("topic_configs")).isZero();
        assertThat(store().batchesFrom(kept0, 0, 10)).containsExactly(wal(0, 3, "wal/1", 200, 100));
        assertThat(commitOne(extend("wal/1", 400), plain(doomed0, 300, 100, 1)).failure())
            .isEqualTo(AppendFailure.PARTITION_DELETED);
        // The topic's objects are left to garbage collection: the segment is referenced no more.
        assertThat(store().unreferencedObjects(clock().millis(), clock().millis())).containsExactly("segment/1");
    }
}
