package dev.weir.topics;

import dev.weir.config.BrokerConfig;
import dev.weir.log.Log;
import dev.weir.log.policy.TopicPolicy;
import dev.weir.metadata.TopicCatalog;
import dev.weir.metadata.TopicRecord;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicaAssignmentException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.TopicDeletionDisabledException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * The topics of the broker: create, delete, grow, reconfigure, and look up by name or id. Changes go
 * to the metadata store first and then to the in-memory view, so a topic is visible to Metadata and
 * Produce the moment its creation is answered. Errors are kafka-clients {@code ApiException}s, which
 * {@code Errors.forException} turns into the codes a Kafka broker sends. Mutations are serialised;
 * look-ups are lock-free.
 */
public final class TopicService {
    private final TopicCatalog metadata;
    private final Log log;
    private final BrokerConfig broker;
    private final TopicConfigs topicConfigs;
    private final Clock clock;
    private final Map<String, Topic> byName = new ConcurrentHashMap<>();
    private final Map<Uuid, Topic> byId = new ConcurrentHashMap<>();
    private final List<DeletionListener> deletionListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Told of each deleted topic, and whether it was deleted through this broker or another one. */
    @FunctionalInterface
    public interface DeletionListener {
        void deleted(Topic topic, boolean here);
    }

    public TopicService(TopicCatalog metadata, Log log, BrokerConfig broker, Clock clock) {
        this.metadata = metadata;
        this.log = log;
        this.broker = broker;
        this.topicConfigs = new TopicConfigs(broker);
        this.clock = clock;
        for (TopicRecord record : metadata.topics()) {
            publish(record);
        }
    }

    /**
     * Called after a topic is deleted (the group coordinator drops its committed offsets; where another
     * broker deleted it, only what it holds in memory, since the database may hold a new topic's by now).
     */
    public void onDeleted(DeletionListener listener) {
        deletionListeners.add(listener);
    }

    public TopicConfigs configs() {
        return topicConfigs;
    }

    private void publish(TopicRecord record) {
        Topic topic = new Topic(record.id(), record.name(), record.partitions(), record.configs(), policy(record.configs()));
        byName.put(topic.name(), topic);
        byId.put(topic.id(), topic);
    }

    private TopicPolicy policy(Map<String, String> configs) {
        return topicConfigs.policy(configs);
    }

    /** The policy of a topic without configs of its own: the broker's defaults. */
    public TopicPolicy defaultPolicy() {
        return policy(Map.of());
    }

    public Optional<Topic> byName(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public Optional<Topic> byId(Uuid id) {
        return Optional.ofNullable(byId.get(id));
    }

    public Collection<Topic> all() {
        return byName.values();
    }

    /** Checks a name as Kafka does: legal characters, length, not "." or "..". */
    public static void validateName(String name) {
        if (name == null) {
            throw new InvalidTopicException("Topic name must not be null.");
        }
        try {
            org.apache.kafka.common.internals.Topic.validate(name);
        } catch (org.apache.kafka.common.errors.InvalidTopicException e) {
            throw new InvalidTopicException(e.getMessage());
        }
    }

    /**
     * Creates a topic; {@code partitions} and {@code replicationFactor} of -1 mean the broker default.
     * With {@code validateOnly} everything is checked and nothing is created.
     */
    public synchronized Topic create(String name, int partitions, short replicationFactor,
                                     List<List<Integer>> assignment, Map<String, String> configs, boolean validateOnly) {
        validateName(name);
        if (byName.containsKey(name)) {
            throw new TopicExistsException("Topic '" + name + "' already exists.");
        }
        for (String existing : byName.keySet()) {
            if (!existing.equals(name) && org.apache.kafka.common.internals.Topic.hasCollision(existing, name)) {
                throw new InvalidTopicException("Topic '" + name + "' collides with existing topic: " + existing);
            }
        }
        int count;
        if (assignment != null && !assignment.isEmpty()) {
            if (partitions != -1 || replicationFactor != -1) {
                throw new org.apache.kafka.common.errors.InvalidRequestException(
                    "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.");
            }
            checkAssignment(assignment, 0);
            count = assignment.size();
        } else {
            count = partitions == -1 ? broker.getInt(BrokerConfig.NUM_PARTITIONS) : partitions;
            short factor = replicationFactor == -1
                ? (Short) broker.value(BrokerConfig.DEFAULT_REPLICATION_FACTOR) : replicationFactor;
            checkReplicationFactor(factor);
        }
        checkPartitionCount(count, 0);
        Map<String, String> valid = TopicConfigs.validateAll(configs);
        TopicRecord record = new TopicRecord(Uuid.randomUuid(), name, count, valid, clock.millis());
        Topic topic = new Topic(record.id(), name, count, record.configs(), policy(record.configs()));
        if (validateOnly) {
            return topic;
        }
        try {
            metadata.createTopic(record);
        } catch (dev.weir.metadata.TopicExistsException e) {
            // Another broker on the same database created it, and this one has not heard yet.
            refresh();
            throw new TopicExistsException("Topic '" + name + "' already exists.");
        }
        log.partitionsCreated(record.id(), 0, count);
        publish(record);
        return topic;
    }

    private void checkReplicationFactor(short factor) {
        if (factor <= 0) {
            throw new InvalidReplicationFactorException("Replication factor must be larger than 0, or -1 to use the default value.");
        }
        if (factor > 1) {
            throw new InvalidReplicationFactorException("Unable to replicate the partition " + factor
                + " time(s): The target replication factor of " + factor
                + " cannot be reached because only 1 broker(s) are registered.");
        }
    }

    private void checkAssignment(List<List<Integer>> assignment, int firstPartition) {
        for (int i = 0; i < assignment.size(); i++) {
            List<Integer> replicas = assignment.get(i);
            if (replicas.isEmpty()) {
                throw new InvalidReplicaAssignmentException("The manual partition assignment includes an empty replica list.");
            }
            checkReplicationFactor((short) replicas.size());
            if (replicas.get(0) != broker.nodeId()) {
                throw new InvalidReplicaAssignmentException("The manual partition assignment of partition "
                    + (firstPartition + i) + " includes broker " + replicas.get(0) + ", which is not registered.");
            }
        }
    }

    private void checkPartitionCount(int count, int existing) {
        if (count <= 0) {
            throw new InvalidPartitionsException("Number of partitions was set to an invalid non-positive value.");
        }
        int perTopic = broker.getInt(BrokerConfig.MAX_PARTITIONS_PER_TOPIC);
        if (count > perTopic) {
            throw new InvalidPartitionsException("A topic may have at most " + perTopic + " partitions ("
                + BrokerConfig.MAX_PARTITIONS_PER_TOPIC + "), " + count + " were requested.");
        }
        int total = byName.values().stream().mapToInt(Topic::partitions).sum() - existing + count;
        int max = broker.getInt(BrokerConfig.MAX_PARTITIONS);
        if (total > max) {
            throw new InvalidPartitionsException("The broker may hold at most " + max + " partitions ("
                + BrokerConfig.MAX_PARTITIONS + "); this request would make " + total + ".");
        }
    }

    public synchronized void delete(Topic topic) {
        if (!broker.getBoolean(BrokerConfig.DELETE_TOPIC_ENABLE)) {
            throw new TopicDeletionDisabledException("Topic deletion is disabled (delete.topic.enable=false).");
        }
        if (byId.get(topic.id()) == null) {
            throw new UnknownTopicOrPartitionException("This server does not host this topic.");
        }
        metadata.deleteTopic(topic.id());
        forget(topic, true);
    }

    /** Drops a deleted topic from the log and the in-memory view, and tells the deletion listeners. */
    private void forget(Topic topic, boolean here) {
        log.topicDeleted(topic.id());
        Topic current = byId.remove(topic.id());
        if (current != null) {
            byName.remove(current.name(), current);
        }
        deletionListeners.forEach(listener -> listener.deleted(topic, here));
    }

    public synchronized void createPartitions(String name, int count, List<List<Integer>> assignment, boolean validateOnly) {
        Topic topic = byName(name).orElseThrow(() ->
            new UnknownTopicOrPartitionException("The topic '" + name + "' does not exist."));
        if (count < topic.partitions()) {
            throw new InvalidPartitionsException("Topic currently has " + topic.partitions()
                + " partitions, which is higher than the requested " + count + ".");
        }
        if (count == topic.partitions()) {
            throw new InvalidPartitionsException("Topic already has " + topic.partitions() + " partitions.");
        }
        if (assignment != null) {
            if (assignment.size() != count - topic.partitions()) {
                throw new InvalidReplicaAssignmentException("Attempted to add " + (count - topic.partitions())
                    + " additional partition(s), but only " + assignment.size() + " assignment(s) were specified.");
            }
            checkAssignment(assignment, topic.partitions());
        }
        checkPartitionCount(count, topic.partitions());
        if (validateOnly) {
            return;
        }
        metadata.addPartitions(topic.id(), count);
        log.partitionsCreated(topic.id(), topic.partitions(), count);
        publish(new TopicRecord(topic.id(), topic.name(), count, topic.configs(), clock.millis()));
    }

    /** Replaces the topic's explicit configs after validating every entry. */
    public synchronized void replaceConfigs(Topic topic, Map<String, String> configs, boolean validateOnly) {
        Map<String, String> valid = TopicConfigs.validateAll(configs);
        policy(valid);
        if (validateOnly) {
            return;
        }
        Topic current = byId.get(topic.id());
        if (current == null) {
            throw new UnknownTopicOrPartitionException("The topic '" + topic.name() + "' does not exist.");
        }
        metadata.replaceTopicConfigs(topic.id(), valid);
        publish(new TopicRecord(current.id(), current.name(), current.partitions(), valid, clock.millis()));
    }

    /**
     * Takes in what other brokers on the same database changed: topics they created or deleted,
     * partitions they added and configs they replaced, as the catalog holds them now.
     */
    public synchronized void refresh() {
        Map<Uuid, TopicRecord> stored = new java.util.HashMap<>();
        for (TopicRecord record : metadata.topics()) {
            stored.put(record.id(), record);
        }
        // Deletions first: a topic deleted and created again under its name has a new id.
        for (Topic known : List.copyOf(byId.values())) {
            if (!stored.containsKey(known.id())) {
                forget(known, false);
            }
        }
        for (TopicRecord record : stored.values()) {
            // The log may lack partitions of a topic it knows too: ones created while this broker started.
            log.ensurePartitions(record.id(), record.partitions());
            Topic known = byId.get(record.id());
            if (known == null || record.partitions() > known.partitions() || !record.configs().equals(known.configs())) {
                publish(record);
            }
        }
    }

    public List<Topic> sortedTopics() {
        List<Topic> topics = new ArrayList<>(byName.values());
        topics.sort((a, b) -> a.name().compareTo(b.name()));
        return topics;
    }
}
