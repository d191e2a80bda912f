package dev.weir.handler;

import dev.weir.log.Log;
import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import dev.weir.topics.Topic;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderPartition;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderTopic;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.EpochEndOffset;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochRequest;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochResponse;

/**
 * OffsetForLeaderEpoch, which consumers use to detect log truncation. A partition of a single node
 * has one leader epoch, {@link Log#LEADER_EPOCH}, that never ends: asking for it (or an older one)
 * gives the log end offset; a newer epoch is unknown (-1, -1), as Kafka answers.
 */
public final class OffsetForLeaderEpochHandler implements Handler<OffsetsForLeaderEpochRequest> {
    private final BrokerContext broker;

    public OffsetForLeaderEpochHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, OffsetsForLeaderEpochRequest request) {
        OffsetForLeaderEpochResponseData data = new OffsetForLeaderEpochResponseData();
        for (OffsetForLeaderTopic topicRequest : request.data().topics()) {
            OffsetForLeaderTopicResult topicResult = new OffsetForLeaderTopicResult().setTopic(topicRequest.topic());
            data.topics().add(topicResult);
            Optional<Topic> topic = broker.topics().byName(topicRequest.topic());
            for (OffsetForLeaderPartition partition : topicRequest.partitions()) {
                topicResult.partitions().add(answer(topic, partition));
            }
        }
        return CompletableFuture.completedFuture(new OffsetsForLeaderEpochResponse(data));
    }

    private EpochEndOffset answer(Optional<Topic> topic, OffsetForLeaderPartition partition) {
        EpochEndOffset result = new EpochEndOffset().setPartition(partition.partition()).setLeaderEpoch(-1).setEndOffset(-1);
        if (topic.isEmpty() || !topic.get().hasPartition(partition.partition())) {
            return result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        }
        Errors epoch = LeaderEpochs.check(partition.currentLeaderEpoch());
        if (epoch != Errors.NONE) {
            return result.setErrorCode(epoch.code());
        }
        result.setErrorCode(Errors.NONE.code());
        if (partition.leaderEpoch() < 0 || partition.leaderEpoch() > Log.LEADER_EPOCH) {
            return result;
        }
        long endOffset = broker.log().offsets(topic.get().partition(partition.partition())).nextOffset();
        return result.setLeaderEpoch(Log.LEADER_EPOCH).setEndOffset(endOffset);
    }
}
