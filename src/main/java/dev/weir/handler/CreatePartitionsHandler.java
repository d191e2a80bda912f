package dev.weir.handler;

import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsAssignment;
import org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsTopic;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreatePartitionsResponseData.CreatePartitionsTopicResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.requests.CreatePartitionsRequest;
import org.apache.kafka.common.requests.CreatePartitionsResponse;

/**
 * Answers CreatePartitions (v0-3): grows each named topic to the requested partition count, or only
 * validates the change when the request says validateOnly, with one result per topic.
 */
public final class CreatePartitionsHandler implements Handler<CreatePartitionsRequest> {
    private static final String DUPLICATE_MESSAGE = "Create partitions request from client contains duplicate topic name";

    private final BrokerContext broker;

    public CreatePartitionsHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, CreatePartitionsRequest request) {
        boolean validateOnly = request.data().validateOnly();
        List<CreatePartitionsTopic> topics = new ArrayList<>(request.data().topics());
        Set<String> duplicates = duplicateNames(topics);
        return broker.onIo(() -> {
            CreatePartitionsResponseData data = new CreatePartitionsResponseData().setThrottleTimeMs(0);
            Set<String> answered = new HashSet<>();
            for (CreatePartitionsTopic topic : topics) {
                // A name given twice is answered once: the client maps results by topic name.
                if (!answered.add(topic.name())) {
                    continue;
                }
                ApiError error = duplicates.contains(topic.name())
                    ? new ApiError(Errors.INVALID_REQUEST, DUPLICATE_MESSAGE)
                    : grow(topic, validateOnly);
                data.results().add(new CreatePartitionsTopicResult()
                    .setName(topic.name())
                    .setErrorCode(error.error().code())
                    .setErrorMessage(error.message()));
            }
            return new CreatePartitionsResponse(data);
        });
    }

    private static Set<String> duplicateNames(List<CreatePartitionsTopic> topics) {
        Set<String> seen = new HashSet<>();
        Set<String> duplicates = new HashSet<>();
        for (CreatePartitionsTopic topic : topics) {
            if (!seen.add(topic.name())) {
                duplicates.add(topic.name());
            }
        }
        return duplicates;
    }

    private ApiError grow(CreatePartitionsTopic topic, boolean validateOnly) {
        try {
            broker.topics().createPartitions(topic.name(), topic.count(), assignment(topic), validateOnly);
            return ApiError.NONE;
        } catch (RuntimeException e) {
            return ErrorTranslator.toApiError(e);
        }
    }

    /** The replicas of each new partition, or null when the client left the placement to us. */
    private static List<List<Integer>> assignment(CreatePartitionsTopic topic) {
        if (topic.assignments() == null) {
            return null;
        }
        List<List<Integer>> replicas = new ArrayList<>();
        for (CreatePartitionsAssignment partition : topic.assignments()) {
            replicas.add(List.copyOf(partition.brokerIds()));
        }
        return replicas;
    }
}
