package dev.weir.handler;

import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.PartitionOffsets;
import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import dev.weir.topics.Topic;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsPartition;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsTopic;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsPartitionResult;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsTopicResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.DeleteRecordsRequest;
import org.apache.kafka.common.requests.DeleteRecordsResponse;

/**
 * DeleteRecords: moves each partition's log start offset forward to the given offset (-1: the high
 * watermark). Reads below it then get OFFSET_OUT_OF_RANGE. An offset beyond the high watermark gets
 * OFFSET_OUT_OF_RANGE, as Kafka answers.
 */
public final class DeleteRecordsHandler implements Handler<DeleteRecordsRequest> {
    private final BrokerContext broker;

    public DeleteRecordsHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, DeleteRecordsRequest request) {
        return broker.onIo(() -> {
            DeleteRecordsResponseData data = new DeleteRecordsResponseData();
            for (DeleteRecordsTopic topicRequest : request.data().topics()) {
                DeleteRecordsTopicResult topicResult = new DeleteRecordsTopicResult().setName(topicRequest.name());
                data.topics().add(topicResult);
                Optional<Topic> topic = broker.topics().byName(topicRequest.name());
                for (DeleteRecordsPartition partition : topicRequest.partitions()) {
                    topicResult.partitions().add(delete(topic, partition));
                }
            }
            return new DeleteRecordsResponse(data);
        });
    }

    private DeleteRecordsPartitionResult delete(Optional<Topic> topic, DeleteRecordsPartition partition) {
        DeleteRecordsPartitionResult result = new DeleteRecordsPartitionResult()
            .setPartitionIndex(partition.partitionIndex()).setLowWatermark(-1);
        if (topic.isEmpty() || !topic.get().hasPartition(partition.partitionIndex())) {
            return result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        }
        PartitionKey key = topic.get().partition(partition.partitionIndex());
        try {
            PartitionOffsets offsets = broker.log().offsets(key);
            long target = partition.offset() == DeleteRecordsRequest.HIGH_WATERMARK ? offsets.nextOffset() : partition.offset();
            if (target < 0 || target > offsets.nextOffset()) {
                return result.setErrorCode(Errors.OFFSET_OUT_OF_RANGE.code());
            }
            return result.setErrorCode(Errors.NONE.code()).setLowWatermark(broker.log().deleteRecords(key, target));
        } catch (RuntimeException e) {
            return result.setErrorCode(ErrorTranslator.toApiError(e).error().code());
        }
    }
}
