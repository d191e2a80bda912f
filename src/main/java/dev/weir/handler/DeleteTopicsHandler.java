package dev.weir.handler;

import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import dev.weir.topics.Topic;
import dev.weir.topics.TopicService;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.UnknownTopicIdException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.message.DeleteTopicsRequestData.DeleteTopicState;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DeleteTopicsResponseData.DeletableTopicResult;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.requests.DeleteTopicsRequest;
import org.apache.kafka.common.requests.DeleteTopicsResponse;

/**
 * Answers DeleteTopics (v1-6): deletes each topic named (or, from v6, identified by id) and reports
 * per topic its error, so one missing topic does not stop the others from being deleted.
 */
public final class DeleteTopicsHandler implements Handler<DeleteTopicsRequest> {
    private final BrokerContext broker;

    public DeleteTopicsHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, DeleteTopicsRequest request) {
        short version = request.version();
        List<DeleteTopicState> targets = targets(request);
        // Look-up and deletion happen together on the I/O thread, one topic after another, so a
        // topic listed twice is found by the first entry and reported unknown by the second.
        return broker.onIo(() -> {
            DeleteTopicsResponseData data = new DeleteTopicsResponseData().setThrottleTimeMs(0);
            for (DeleteTopicState target : targets) {
                data.responses().add(delete(target, version));
            }
            return new DeleteTopicsResponse(data);
        });
    }

    /** The requested topics in v6 form (name or id), whatever the version. */
    private static List<DeleteTopicState> targets(DeleteTopicsRequest request) {
        if (request.version() >= 6) {
            return new ArrayList<>(request.data().topics());
        }
        List<DeleteTopicState> targets = new ArrayList<>();
        for (String name : request.data().topicNames()) {
            targets.add(new DeleteTopicState().setName(name).setTopicId(Uuid.ZERO_UUID));
        }
        return targets;
    }

    private DeletableTopicResult delete(DeleteTopicState target, short version) {
        Topic topic = null;
        ApiError error = ApiError.NONE;
        try {
            topic = find(target);
            broker.topics().delete(topic);
        } catch (RuntimeException e) {
            error = ErrorTranslator.toApiError(e);
        }
        // Name the topic as we know it; a topic asked for by an unknown id has no name (v6+ only).
        String name = topic != null ? topic.name() : target.name();
        DeletableTopicResult result = new DeletableTopicResult()
            .setName(name)
            .setErrorCode(error.error().code());
        if (version >= 6) {
            result.setTopicId(topic != null ? topic.id() : target.topicId());
        }
        if (version >= 5) {
            result.setErrorMessage(error.message());
        }
        return result;
    }

    private Topic find(DeleteTopicState target) {
        boolean hasName = target.name() != null;
        boolean hasId = target.topicId() != null && !Uuid.ZERO_UUID.equals(target.topicId());
        if (hasName == hasId) {
            throw new InvalidRequestException(hasName
                ? "A topic to delete must be given by name or by id, not both."
                : "A topic to delete must be given by name or by id.");
        }
        if (hasId) {
            return broker.topics().byId(target.topicId()).orElseThrow(() ->
                new UnknownTopicIdException("No topic has the id " + target.topicId() + "."));
        }
        TopicService.validateName(target.name());
        return broker.topics().byName(target.name()).orElseThrow(() ->
            new UnknownTopicOrPartitionException("The topic '" + target.name() + "' does not exist."));
    }
}
