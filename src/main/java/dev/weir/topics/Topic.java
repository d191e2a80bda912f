package dev.weir.topics;

import dev.weir.log.policy.TopicLimits;
import dev.weir.log.policy.TopicPolicy;
import dev.weir.metadata.PartitionKey;
import java.util.Map;
import org.apache.kafka.common.Uuid;

/** A topic as the broker serves it: identity, partition count, explicit configs and the policy they resolve to. */
public record Topic(Uuid id, String name, int partitions, Map<String, String> configs, TopicPolicy policy) {
    /** The limits of batches produced to it. */
    public TopicLimits limits() {
        return policy.limits();
    }

    public PartitionKey partition(int index) {
        return new PartitionKey(id, index);
    }

    public boolean hasPartition(int index) {
        return index >= 0 && index < partitions;
    }

    public boolean isInternal() {
        return isInternal(name);
    }

    /**
     * Whether the name is one of Kafka's internal topics (__consumer_offsets, __transaction_state,
     * __share_group_state). Kafka lets such a topic be created, by CreateTopics or by Metadata, reports it
     * as internal, and takes no client's records into it; Weir does the same. Weir itself keeps nothing
     * there (committed offsets are in its metadata database), so such a topic stays empty.
     */
    public static boolean isInternal(String name) {
        return org.apache.kafka.common.internals.Topic.isInternal(name);
    }
}
