package dev.weir.log.cleaner;

import dev.weir.log.policy.TopicPolicy;
import java.util.Collection;
import java.util.Optional;
import org.apache.kafka.common.Uuid;

/** The topics whose logs the cleaner looks after, with the policies their configs resolve to. */
public interface CleanedTopics {
    /** A topic: its id, partition count and policy. */
    record CleanedTopic(Uuid id, int partitions, TopicPolicy policy) {
    }

    Collection<CleanedTopic> all();

    /** The topic, unless it was deleted. */
    Optional<CleanedTopic> byId(Uuid id);

    /** The policy of a topic without configs of its own: the broker's. */
    TopicPolicy defaults();
}
