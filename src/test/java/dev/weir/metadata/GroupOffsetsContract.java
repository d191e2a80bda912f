package dev.weir.metadata;

import static dev.weir.metadata.Batches.first;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * Consumer groups' committed offsets. Part of {@link MetadataStoreContract}.
 */
public interface GroupOffsetsContract extends StoreFixture {
    @Test
    default void groupOffsetsAreReplacedPerPartitionAndDeletedByPartitionGroupOrTopic() throws Exception {
        CommittedOffset orders0 = new CommittedOffset("orders", 0, 15, 2, "", 200);
        CommittedOffset orders1 = new CommittedOffset("orders", 1, 20, -1, null, 100);
        CommittedOffset events0 = new CommittedOffset("events", 0, 7, 0, "meta", 300);
        store().commitOffsets("g1", List.of(new CommittedOffset("orders", 0, 10, 1, "first", 100), orders1));
        store().commitOffsets("g1", List.of(orders0));
        store().commitOffsets("g2", List.of(new CommittedOffset("orders", 0, 5, 0, null, 300), events0));

        reopen();
        Map<String, List<CommittedOffset>> committed = store().committedOffsets();
        assertThat(committed).containsOnlyKeys("g1", "g2");
        assertThat(committed.get("g1")).containsExactlyInAnyOrder(orders0, orders1);
        assertThat(committed.get("g2")).containsExactlyInAnyOrder(new CommittedOffset("orders", 0, 5, 0, null, 300), events0);

        store().deleteOffsets("g1", List.of(new TopicPartition("orders", 1), new TopicPartition("other", 0)));
        assertThat(store().committedOffsets().get("g1")).containsExactly(orders0);
        store().deleteOffsetsOfTopic("orders");
        assertThat(store().committedOffsets()).containsOnly(entry("g2", List.of(events0)));
        store().deleteOffsets("g2", null);
        assertThat(store().committedOffsets()).isEmpty();
    }
}
