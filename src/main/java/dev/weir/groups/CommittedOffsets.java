package dev.weir.groups;

import dev.weir.metadata.CommittedOffset;
import dev.weir.metadata.GroupOffsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.TopicPartition;

/**
 * Every group's committed offsets: in memory for reads, written through to the metadata database
 * before a commit is acknowledged, loaded from it at start-up. Confined to the coordinator thread.
 */
final class CommittedOffsets {
    private final GroupOffsets metadata;
    private final Map<String, Map<TopicPartition, CommittedOffset>> byGroup = new HashMap<>();

    CommittedOffsets(GroupOffsets metadata) {
        this.metadata = metadata;
        reload();
    }

    /**
     * Reads every group's offsets from the database again: other brokers on it may have coordinated some
     * of these groups and committed since (a group moves when the live brokers change).
     */
    void reload() {
        // Read whole before anything is replaced: a failed read leaves the offsets as they were.
        Map<String, Map<TopicPartition, CommittedOffset>> stored = new HashMap<>();
        metadata.committedOffsets().forEach((group, offsets) -> {
            Map<TopicPartition, CommittedOffset> partitions = new TreeMap<>(CommittedOffsets::compare);
            offsets.forEach(offset -> partitions.put(new TopicPartition(offset.topic(), offset.partition()), offset));
            stored.put(group, partitions);
        });
        byGroup.clear();
        byGroup.putAll(stored);
    }

    private static int compare(TopicPartition a, TopicPartition b) {
        int byTopic = a.topic().compareTo(b.topic());
        return byTopic != 0 ? byTopic : Integer.compare(a.partition(), b.partition());
    }

    /** Stores durably, then makes visible. */
    void commit(String groupId, List<CommittedOffset> offsets) {
        if (offsets.isEmpty()) {
            return;
        }
        metadata.commitOffsets(groupId, offsets);
        Map<TopicPartition, CommittedOffset> partitions = byGroup.computeIfAbsent(groupId,
            id -> new TreeMap<>(CommittedOffsets::compare));
        offsets.forEach(offset -> partitions.put(new TopicPartition(offset.topic(), offset.partition()), offset));
    }

    Map<TopicPartition, CommittedOffset> of(String groupId) {
        return byGroup.getOrDefault(groupId, Map.of());
    }

    Set<String> groups() {
        return byGroup.keySet();
    }

    boolean hasOffsets(String groupId) {
        return !of(groupId).isEmpty();
    }

    void deleteGroup(String groupId) {
        metadata.deleteOffsets(groupId, null);
        byGroup.remove(groupId);
    }

    void delete(String groupId, List<TopicPartition> partitions) {
        Map<TopicPartition, CommittedOffset> offsets = byGroup.get(groupId);
        if (offsets == null) {
            return;
        }
        metadata.deleteOffsets(groupId, partitions);
        partitions.forEach(offsets::remove);
        if (offsets.isEmpty()) {
            byGroup.remove(groupId);
        }
    }

    void topicDeleted(String topic, boolean here) {
        if (here) {
            // Where another broker deleted it, it deleted the stored offsets; a topic of the same name may have
            // some of its own by now.
            metadata.deleteOffsetsOfTopic(topic);
        }
        byGroup.values().forEach(offsets -> offsets.keySet().removeIf(partition -> partition.topic().equals(topic)));
        byGroup.values().removeIf(Map::isEmpty);
    }

    /** Offsets of a group committed before {@code cutoffMs}, for expiry. */
    List<TopicPartition> committedBefore(String groupId, long cutoffMs) {
        List<TopicPartition> expired = new ArrayList<>();
        of(groupId).forEach((partition, offset) -> {
            if (offset.commitMs() < cutoffMs) {
                expired.add(partition);
            }
        });
        return expired;
    }
}
