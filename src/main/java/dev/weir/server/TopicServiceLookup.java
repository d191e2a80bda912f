package dev.weir.server;

import dev.weir.groups.TopicLookup;
import dev.weir.log.cleaner.CleanedTopics;
import dev.weir.log.policy.TopicPolicy;
import dev.weir.topics.Topic;
import dev.weir.topics.TopicService;
import org.apache.kafka.common.Uuid;

/** The group coordinator's and the log cleaner's views of the topics, backed by the topic service. */
final class TopicServiceLookup implements TopicLookup, CleanedTopics {
    private final TopicService topics;

    TopicServiceLookup(TopicService topics) {
        this.topics = topics;
    }

    @Override
    public String nameOf(Uuid topicId) {
        return topics.byId(topicId).map(Topic::name).orElse(null);
    }

    @Override
    public Uuid idOf(String topic) {
        return topics.byName(topic).map(Topic::id).orElse(Uuid.ZERO_UUID);
    }

    @Override
    public int partitionCount(String topic) {
        return topics.byName(topic).map(Topic::partitions).orElse(0);
    }

    @Override
    public java.util.Collection<String> topicNames() {
        return topics.all().stream().map(Topic::name).toList();
    }

    @Override
    public boolean exists(String topic, int partition) {
        return topics.byName(topic).map(found -> found.hasPartition(partition)).orElse(false);
    }

    @Override
    public java.util.Collection<CleanedTopic> all() {
        return topics.all().stream().map(TopicServiceLookup::cleaned).toList();
    }

    @Override
    public java.util.Optional<CleanedTopic> byId(Uuid id) {
        return topics.byId(id).map(TopicServiceLookup::cleaned);
    }

    @Override
    public TopicPolicy defaults() {
        return topics.defaultPolicy();
    }

    private static CleanedTopic cleaned(Topic topic) {
        return new CleanedTopic(topic.id(), topic.partitions(), topic.policy());
    }
}
