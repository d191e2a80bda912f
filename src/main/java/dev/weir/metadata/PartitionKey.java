package dev.weir.metadata;

import org.apache.kafka.common.Uuid;

/** A partition, named by its topic's id (names can be reused after a delete, ids cannot). */
public record PartitionKey(Uuid topicId, int partition) {
    @Override
    public String toString() {
        return topicId + "-" + partition;
    }
}
