package dev.weir.handler;

import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestGroup;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestTopic;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestTopics;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseGroup;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartition;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartitions;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopic;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopics;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.OffsetFetchRequest;
import org.apache.kafka.common.requests.OffsetFetchResponse;

/**
 * OffsetFetch: one group (v1-7) or several (v8+); a partition without a committed offset gets -1.
 * Requests older than v8 are turned into the one-group form and the answer back into the old shape.
 */
public final class OffsetFetchHandler implements Handler<OffsetFetchRequest> {
    private final GroupHandlers groups;

    public OffsetFetchHandler(GroupHandlers groups) {
        this.groups = groups;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, OffsetFetchRequest request) {
        short version = scope.apiVersion();
        if (version >= 8) {
            List<CompletableFuture<OffsetFetchResponseGroup>> answers = new ArrayList<>();
            for (OffsetFetchRequestGroup group : request.data().groups()) {
                answers.add(groups.offsets().fetch(group.groupId(), group.topics(), version >= 10));
            }
            return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(ignored -> {
                OffsetFetchResponseData data = new OffsetFetchResponseData();
                answers.forEach(answer -> data.groups().add(answer.join()));
                return new OffsetFetchResponse(data, version);
            });
        }
        List<OffsetFetchRequestTopics> topics = null;
        if (request.data().topics() != null) {
            topics = new ArrayList<>();
            for (OffsetFetchRequestTopic topic : request.data().topics()) {
                topics.add(new OffsetFetchRequestTopics().setName(topic.name()).setPartitionIndexes(topic.partitionIndexes()));
            }
        }
        return groups.offsets().fetch(request.data().groupId(), topics, false)
            .thenApply(group -> new OffsetFetchResponse(oldShape(group), version));
    }

    private static OffsetFetchResponseData oldShape(OffsetFetchResponseGroup group) {
        OffsetFetchResponseData data = new OffsetFetchResponseData().setErrorCode(group.errorCode());
        for (OffsetFetchResponseTopics topic : group.topics()) {
            OffsetFetchResponseTopic old = new OffsetFetchResponseTopic().setName(topic.name());
            for (OffsetFetchResponsePartitions partition : topic.partitions()) {
                old.partitions().add(new OffsetFetchResponsePartition().setPartitionIndex(partition.partitionIndex())
                    .setCommittedOffset(partition.committedOffset()).setCommittedLeaderEpoch(partition.committedLeaderEpoch())
                    .setMetadata(partition.metadata()).setErrorCode(partition.errorCode()));
            }
            data.topics().add(old);
        }
        return data;
    }
}
