package dev.weir.groups;

import java.util.Collection;
import java.util.List;
import org.apache.kafka.common.Uuid;

/** What the coordinator needs to know of topics: names by id, and whether a partition exists. */
public interface TopicLookup {
    /** The topic's name, or null if there is no topic with that id. */
    String nameOf(Uuid topicId);

    /** The topic's id, or {@link Uuid#ZERO_UUID} if there is no such topic. */
    Uuid idOf(String topic);

    boolean exists(String topic, int partition);

    /**
     * The topic's number of partitions, 0 if there is no such topic. The default probes
     * {@link #exists}; implementations should answer directly.
     */
    default int partitionCount(String topic) {
        int count = 0;
        while (exists(topic, count)) {
            count++;
        }
        return count;
    }

    /**
     * The names of all topics, which consumer-group regex subscriptions are matched against. The
     * default knows no topics, so regex subscriptions match nothing until an implementation answers.
     */
    default Collection<String> topicNames() {
        return List.of();
    }
}
