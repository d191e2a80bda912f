package dev.weir.handler;

import dev.weir.log.Log;
import dev.weir.log.TimestampOffset;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.PartitionOffsets;
import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import dev.weir.topics.Topic;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsPartition;
import org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsTopic;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsPartitionResponse;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsTopicResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ListOffsetsRequest;
import org.apache.kafka.common.requests.ListOffsetsResponse;

/**
 * ListOffsets: earliest (the log start offset), latest (the high watermark, which is also the last
 * stable offset since there are no open transactions), the record with the largest timestamp, or the
 * first record at or after a timestamp. Timestamp look-ups read the index and a batch, so the whole
 * request runs on the I/O executor.
 */
public final class ListOffsetsHandler implements Handler<ListOffsetsRequest> {
    private final BrokerContext broker;

    public ListOffsetsHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, ListOffsetsRequest request) {
        return broker.onIo(() -> {
            ListOffsetsResponseData data = new ListOffsetsResponseData();
            for (ListOffsetsTopic topicRequest : request.data().topics()) {
                ListOffsetsTopicResponse topicResponse = new ListOffsetsTopicResponse().setName(topicRequest.name());
                data.topics().add(topicResponse);
                Optional<Topic> topic = broker.topics().byName(topicRequest.name());
                for (ListOffsetsPartition partition : topicRequest.partitions()) {
                    topicResponse.partitions().add(answer(topic, partition, scope.apiVersion()));
                }
            }
            return new ListOffsetsResponse(data);
        });
    }

    private ListOffsetsPartitionResponse answer(Optional<Topic> topic, ListOffsetsPartition partition, short version) {
        ListOffsetsPartitionResponse response = new ListOffsetsPartitionResponse()
            .setPartitionIndex(partition.partitionIndex()).setOffset(-1).setTimestamp(-1).setLeaderEpoch(-1);
        if (topic.isEmpty() || !topic.get().hasPartition(partition.partitionIndex())) {
            return response.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        }
        Errors epoch = LeaderEpochs.check(partition.currentLeaderEpoch());
        if (epoch != Errors.NONE) {
            return response.setErrorCode(epoch.code());
        }
        PartitionKey key = topic.get().partition(partition.partitionIndex());
        try {
            Optional<TimestampOffset> found = find(key, partition.timestamp());
            response.setErrorCode(Errors.NONE.code());
            // The leader epoch exists from v4; librdkafka (v2), kafkajs (v3) and kafka-python (v1) ask older.
            found.ifPresent(hit -> response.setOffset(hit.offset()).setTimestamp(hit.timestamp())
                .setLeaderEpoch(version >= 4 ? Log.LEADER_EPOCH : -1));
            return response;
        } catch (RuntimeException e) {
            return response.setErrorCode(ErrorTranslator.toApiError(e).error().code());
        }
    }

    private Optional<TimestampOffset> find(PartitionKey key, long timestamp) {
        PartitionOffsets offsets = broker.log().offsets(key);
        if (timestamp == ListOffsetsRequest.EARLIEST_TIMESTAMP || timestamp == ListOffsetsRequest.EARLIEST_LOCAL_TIMESTAMP) {
            return Optional.of(new TimestampOffset(-1, offsets.logStartOffset()));
        }
        if (timestamp == ListOffsetsRequest.LATEST_TIMESTAMP) {
            return Optional.of(new TimestampOffset(-1, offsets.nextOffset()));
        }
        if (timestamp == ListOffsetsRequest.MAX_TIMESTAMP) {
            return broker.log().maxTimestamp(key);
        }
        if (timestamp < 0) {
            // Tiered-storage positions (-5, -6): there is no tiered storage, so there is no such offset.
            return Optional.empty();
        }
        return broker.log().offsetForTimestamp(key, timestamp);
    }
}
