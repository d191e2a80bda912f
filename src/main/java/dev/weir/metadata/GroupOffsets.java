package dev.weir.metadata;

import java.util.List;
import java.util.Map;

/**
 * Consumer groups' committed offsets. One role of the {@link MetadataStore}; thread-safe, every method
 * may block on I/O and throws {@link MetadataException} on failure.
 */
public interface GroupOffsets {
    /** Stores (replaces) a group's committed offsets, durably, in one transaction. */
    void commitOffsets(String groupId, List<CommittedOffset> offsets);

    /** Every group's committed offsets, read once at start-up. */
    Map<String, List<CommittedOffset>> committedOffsets();

    /** Deletes the given partitions' offsets of a group (all of them when {@code partitions} is null). */
    void deleteOffsets(String groupId, List<org.apache.kafka.common.TopicPartition> partitions);

    /** Deletes every group's offsets for a topic (the topic was deleted). */
    void deleteOffsetsOfTopic(String topic);
}
