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

    /**
     * Starts calling {@code changed}, on a thread of the store's, whenever another broker on the same
     * database changed the catalog (topics created or deleted, partitions added, configs replaced) or moved
     * a partition's log start offset; and once listening begins, and again after it was interrupted, since
     * changes may have been missed meanwhile. A store that only one broker opens (SQLite) never calls it.
     * Closing the result stops it.
     */
    default AutoCloseable followCatalog(Runnable changed) {
        return () -> { };
    }
}
