package dev.weir.topics;

import dev.weir.log.TopicLimits;
import dev.weir.metadata.PartitionKey;
import java.util.Map;
import org.apache.kafka.common.Uuid;

/** A topic as the broker serves it: identity, partition count, explicit configs and produce limits. */
public record Topic(Uuid id, String name, int partitions, Map<String, String> configs, TopicLimits limits) {
    public PartitionKey partition(int index) {
        return new PartitionKey(id, index);
    }

    public boolean hasPartition(int index) {
        return index >= 0 && index < partitions;
    }
}
