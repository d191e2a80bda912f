package dev.weir.groups;

import org.apache.kafka.common.Uuid;

/** What the coordinator needs to know of topics: names by id, and whether a partition exists. */
public interface TopicLookup {
    /** The topic's name, or null if there is no topic with that id. */
    String nameOf(Uuid topicId);

    /** The topic's id, or {@link Uuid#ZERO_UUID} if there is no such topic. */
    Uuid idOf(String topic);

    boolean exists(String topic, int partition);
}
