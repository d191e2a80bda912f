package dev.weir.metadata;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;

/**
 * Topics, their partition counts and their explicitly set configs. One role of the {@link
 * MetadataStore}; thread-safe, every method may block on I/O and throws {@link MetadataException} on
 * failure.
 */
public interface TopicCatalog {
    List<TopicRecord> topics();

    /** Creates the topic and its partitions; throws {@link TopicExistsException} if the name is taken. */
    void createTopic(TopicRecord topic);

    /** Removes the topic, its configs, partitions, batch index rows and producer state. */
    void deleteTopic(Uuid topicId);

    void addPartitions(Uuid topicId, int newPartitionCount);

    /** Replaces the topic's explicitly set configs. */
    void replaceTopicConfigs(Uuid topicId, Map<String, String> configs);
}
