package dev.weir.handler;

import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import dev.weir.topics.Topic;
import dev.weir.topics.TopicConfigs;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidReplicaAssignmentException;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableReplicaAssignment;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopic;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopicConfig;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicConfigs;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.requests.CreateTopicsRequest;
import org.apache.kafka.common.requests.CreateTopicsResponse;

/**
 * Answers CreateTopics (v2-7): creates each requested topic, or only validates it when the request
 * says validateOnly, and reports per topic its id, error and (v5+) partition count, replication
 * factor and resolved configs.
 */
public final class CreateTopicsHandler implements Handler<CreateTopicsRequest> {
    private static final String DUPLICATE_MESSAGE = "Create topics request from client contains duplicate topic name";

    private final BrokerContext broker;

    public CreateTopicsHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, CreateTopicsRequest request) {
        short version = request.version();
        boolean validateOnly = request.data().validateOnly();
        List<CreatableTopic> topics = new ArrayList<>(request.data().topics());
        Set<String> duplicates = duplicateNames(topics);
        // Creations run one after another in a single I/O task: TopicService serialises them anyway,
        // and one task keeps the results in request order.
        return broker.onIo(() -> {
            CreateTopicsResponseData data = new CreateTopicsResponseData().setThrottleTimeMs(0);
            Set<String> answered = new HashSet<>();
            for (CreatableTopic topic : topics) {
                if (!answered.add(topic.name())) {
                    continue;
                }
                if (duplicates.contains(topic.name())) {
                    data.topics().add(failure(topic.name(), new ApiError(Errors.INVALID_REQUEST, DUPLICATE_MESSAGE), version));
                } else {
                    data.topics().add(create(topic, validateOnly, version));
                }
            }
            return new CreateTopicsResponse(data);
        });
    }

    private static Set<String> duplicateNames(List<CreatableTopic> topics) {
        Set<String> seen = new HashSet<>();
        Set<String> duplicates = new HashSet<>();
        for (CreatableTopic topic : topics) {
            if (!seen.add(topic.name())) {
                duplicates.add(topic.name());
            }
        }
        return duplicates;
    }

    private CreatableTopicResult create(CreatableTopic request, boolean validateOnly, short version) {
        Topic topic;
        try {
            topic = broker.topics().create(request.name(), request.numPartitions(), request.replicationFactor(),
                assignment(request), configs(request), validateOnly);
        } catch (RuntimeException e) {
            return failure(request.name(), ErrorTranslator.toApiError(e), version);
        }
        CreatableTopicResult result = new CreatableTopicResult()
            .setName(topic.name())
            .setErrorCode(Errors.NONE.code())
            .setErrorMessage(null);
        if (version >= 7) {
            result.setTopicId(topic.id());
        }
        if (version >= 5) {
            result.setNumPartitions(topic.partitions())
                .setReplicationFactor((short) 1)
                .setConfigs(describeConfigs(topic));
        }
        return result;
    }

    private static CreatableTopicResult failure(String name, ApiError error, short version) {
        CreatableTopicResult result = new CreatableTopicResult()
            .setName(name)
            .setErrorCode(error.error().code())
            .setErrorMessage(error.message());
        if (version >= 5) {
            result.setNumPartitions(-1).setReplicationFactor((short) -1);
        }
        return result;
    }

    /**
     * The manual assignment as one replica list per partition, in partition order, or null when none
     * was given. The partition indexes must be 0..n-1, because the list position is the partition.
     */
    private static List<List<Integer>> assignment(CreatableTopic topic) {
        if (topic.assignments().isEmpty()) {
            return null;
        }
        List<CreatableReplicaAssignment> sorted = new ArrayList<>(topic.assignments());
        sorted.sort(Comparator.comparingInt(CreatableReplicaAssignment::partitionIndex));
        List<List<Integer>> replicas = new ArrayList<>();
        for (int i = 0; i < sorted.size(); i++) {
            CreatableReplicaAssignment partition = sorted.get(i);
            if (partition.partitionIndex() != i) {
                throw new InvalidReplicaAssignmentException("The manual partition assignment must name partitions 0 to "
                    + (sorted.size() - 1) + " once each, but partition " + partition.partitionIndex() + " was given.");
            }
            replicas.add(List.copyOf(partition.brokerIds()));
        }
        return replicas;
    }

    private static Map<String, String> configs(CreatableTopic topic) {
        Map<String, String> configs = new LinkedHashMap<>();
        for (CreatableTopicConfig config : topic.configs()) {
            if (config.value() == null) {
                throw new InvalidConfigurationException("Null value not supported for topic config " + config.name());
            }
            configs.put(config.name(), config.value());
        }
        return configs;
    }

    private List<CreatableTopicConfigs> describeConfigs(Topic topic) {
        List<CreatableTopicConfigs> configs = new ArrayList<>();
        for (String name : TopicConfigs.names()) {
            TopicConfigs.Resolved resolved = broker.topics().configs().resolve(name, topic.configs());
            configs.add(new CreatableTopicConfigs()
                .setName(name)
                .setValue(resolved.value())
                .setReadOnly(false)
                .setConfigSource(ConfigSupport.sourceId(resolved.source()))
                .setIsSensitive(false));
        }
        return configs;
    }
}
