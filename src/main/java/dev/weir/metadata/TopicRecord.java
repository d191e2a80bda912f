package dev.weir.metadata;

import java.util.Map;
import org.apache.kafka.common.Uuid;

/** A topic as stored: its id, name, partition count and explicitly set configs. */
public record TopicRecord(Uuid id, String name, int partitions, Map<String, String> configs, long createdMs) {
    public TopicRecord {
        configs = Map.copyOf(configs);
    }

    public TopicRecord withPartitions(int count) {
        return new TopicRecord(id, name, count, configs, createdMs);
    }

    public TopicRecord withConfigs(Map<String, String> newConfigs) {
        return new TopicRecord(id, name, partitions, newConfigs, createdMs);
    }
}
