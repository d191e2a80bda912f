package dev.weir.metadata;

import static dev.weir.metadata.Batches.TIMESTAMP;
import static dev.weir.metadata.Batches.extend;
import static dev.weir.metadata.Batches.first;
import static dev.weir.metadata.Batches.plain;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

/**
 * The object catalog: objects no batch refers to, marked and then deletable, and forgotten (one or many
 * at once). Part of {@link MetadataStoreContract}.
 */
public interface ObjectCatalogContract extends StoreFixture {
    @Test
    default void objectsNoBatchRefersToAreMarkedOnceAndDeletableAfterTheCutoff() {
        PartitionKey zero = new PartitionKey(createTopic("orders", 1), 0);
        commitOne(first("wal/1", 100), plain(zero, 0, 100, 1));
        commitOne(first("wal/2", 100), plain(zero, 0, 100, 1));
        assertThat(store().unreferencedObjects(1000, 1000)).isEmpty();

        store().advanceLogStartOffset(zero, 1);
        assertThat(store().unreferencedObjects(2000, 1999)).isEmpty();
        assertThat(store().unreferencedObjects(3000, 2000)).containsExactly("wal/1");
        assertThat(store().unreferencedObjects(4000, 1999)).isEmpty();

        assertThat(store().forgetObject("wal/2")).isFalse();
        assertThat(store().forgetObject("wal/1")).isTrue();
        assertThat(store().forgetObject("wal/1")).isFalse();
        assertThat(store().committedObjectKeys()).containsExactly("wal/2");
        assertThat(store().objectSize("wal/1")).isEqualTo(-1);
        assertThat(store().unreferencedObjects(5000, 5000)).isEmpty();
    }

    @Test
    default void objectsAreForgottenTogetherButNotThoseABatchRefersTo() {
        PartitionKey zero = new PartitionKey(createTopic("orders", 1), 0);
        commitOne(first("wal/1", 100), plain(zero, 0, 100, 1));
        commitOne(first("wal/2", 100), plain(zero, 0, 100, 1));
        commitOne(first("wal/3", 100), plain(zero, 0, 100, 1));
        NewSegment segment = new NewSegment(new SegmentRecord("segment/1", zero, 0, 1, 180, START_MS),
            List.of(new BatchLocation(0, 1, "segment/1", 0, 180, TIMESTAMP)));
        assertThat(store().replaceBatches(zero, 0, 1, 2, List.of(segment), List.of(), List.of())).isTrue();
        store().advanceLogStartOffset(zero, 2);

        assertThat(store().forgetObjects(List.of("wal/3", "segment/1", "wal/missing", "wal/2", "wal/1")))
            .containsExactly("segment/1", "wal/2", "wal/1");
        assertThat(store().committedObjectKeys()).containsExactly("wal/3");
        assertThat(store().segments(zero)).as("the forgotten segment is no segment any more").isEmpty();
        assertThat(store().forgetObjects(List.of())).isEmpty();
        assertThat(store().forgetObjects(List.of("wal/1", "wal/3"))).isEmpty();
    }

    @Test
    default void extendingAFileForgetsThatItWasUnreferenced() {
        Uuid orders = createTopic("orders", 1);
        Uuid doomed = createTopic("doomed", 1);
        PartitionKey zero = new PartitionKey(orders, 0);
        store().deleteTopic(doomed);
        commitOne(first("wal/1", 100), plain(new PartitionKey(doomed, 0), 0, 100, 1));
        assertThat(store().committedObjectKeys()).containsExactly("wal/1");
        assertThat(store().unreferencedObjects(1000, 0)).isEmpty();

        commitOne(extend("wal/1", 200), plain(zero, 100, 100, 1));
        store().advanceLogStartOffset(zero, 1);

        // Marked again when unreferenced again, not at the first mark's time.
        assertThat(store().unreferencedObjects(3000, 2000)).isEmpty();
        assertThat(store().unreferencedObjects(4000, 3000)).containsExactly("wal/1");
    }
}
