package dev.weir.groups;

import dev.weir.groups.ClassicGroup.State;
import dev.weir.metadata.CommittedOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestPartition;
import org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestTopic;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponsePartition;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponseTopic;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestTopics;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseGroup;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartitions;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopics;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OffsetCommit, OffsetFetch and OffsetDelete, checked against the group's generation as Kafka
 * checks them, and the expiry of an empty group's offsets after {@code offsets.retention.minutes};
 * the same periodic pass forgets empty groups that have no offsets left.
 * Runs on the coordinator thread; commits are durable in the metadata database before they are
 * acknowledged.
 */
public final class OffsetCoordinator {
    private static final Logger LOG = LoggerFactory.getLogger(OffsetCoordinator.class);

    private final GroupCoordinator groups;
    private final CommittedOffsets offsets;
    private final TopicLookup topics;

    public OffsetCoordinator(GroupCoordinator groups, dev.weir.metadata.GroupOffsets metadata, TopicLookup topics) {
        this.groups = groups;
        this.offsets = groups.onCoordinator(() -> CompletableFuture.completedFuture(new CommittedOffsets(metadata))).join();
        this.topics = topics;
        long periodMs = Math.max(1000, Math.min(groups.settings.offsetsRetentionMs() / 10, 600_000));
        groups.executor.scheduleWithFixedDelay(this::expireOffsets, periodMs, periodMs, TimeUnit.MILLISECONDS);
    }

    CommittedOffsets offsets() {
        return offsets;
    }

    public CompletableFuture<OffsetCommitResponseData> commit(OffsetCommitRequestData request, short version) {
        return groups.onCoordinator(() -> CompletableFuture.completedFuture(doCommit(request, version)));
    }

    private OffsetCommitResponseData doCommit(OffsetCommitRequestData request, short version) {
        Errors groupError = validateCommit(request);
        long now = groups.clock.millis();
        OffsetCommitResponseData response = new OffsetCommitResponseData();
        List<CommittedOffset> accepted = new ArrayList<>();
        List<OffsetCommitResponsePartition> acceptedResponses = new ArrayList<>();
        for (OffsetCommitRequestTopic topic : request.topics()) {
            String name = version >= 10 ? topics.nameOf(topic.topicId()) : topic.name();
            OffsetCommitResponseTopic topicResponse = new OffsetCommitResponseTopic().setName(topic.name())
                .setTopicId(topic.topicId());
            response.topics().add(topicResponse);
            for (OffsetCommitRequestPartition partition : topic.partitions()) {
                OffsetCommitResponsePartition partitionResponse = new OffsetCommitResponsePartition()
                    .setPartitionIndex(partition.partitionIndex());
                topicResponse.partitions().add(partitionResponse);
                Errors error = groupError;
                if (error == Errors.NONE && (name == null || !topics.exists(name, partition.partitionIndex()))) {
                    error = version >= 10 ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION;
                } else if (error == Errors.NONE && partition.committedMetadata() != null
                    && partition.committedMetadata().length() > groups.settings.offsetMetadataMaxBytes()) {
                    error = Errors.OFFSET_METADATA_TOO_LARGE;
                }
                partitionResponse.setErrorCode(error.code());
                if (error == Errors.NONE) {
                    accepted.add(new CommittedOffset(name, partition.partitionIndex(), partition.committedOffset(),
                        partition.committedLeaderEpoch(), partition.committedMetadata(), now));
                    acceptedResponses.add(partitionResponse);
                }
            }
        }
        if (!accepted.isEmpty()) {
            try {
                offsets.commit(request.groupId(), accepted);
            } catch (RuntimeException e) {
                LOG.error("Storing offsets of group {} failed", request.groupId(), e);
                acceptedResponses.forEach(partition -> partition.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code()));
            }
        }
        return response;
    }

    /** Kafka's ClassicGroup.validateOffsetCommit, over whatever group type holds the id. */
    private Errors validateCommit(OffsetCommitRequestData request) {
        if (request.groupId() == null || request.groupId().isEmpty()) {
            return Errors.INVALID_GROUP_ID;
        }
        ClassicGroup group = groups.groups.get(request.groupId());
        int generation = request.generationIdOrMemberEpoch();
        String memberId = request.memberId();
        if (group == null) {
            ConsumerGroupState consumerGroup = groups.consumerGroups().get(request.groupId());
            if (consumerGroup != null) {
                return consumerGroup.validateCommit(memberId, generation);
            }
            return generation >= 0 || !memberId.isEmpty() || request.groupInstanceId() != null
                ? Errors.ILLEGAL_GENERATION : Errors.NONE;
        }
        if (group.state == State.DEAD) {
            return Errors.COORDINATOR_NOT_AVAILABLE;
        }
        if (generation < 0 && group.state == State.EMPTY) {
            return Errors.NONE;
        }
        if (generation >= 0 || !memberId.isEmpty() || request.groupInstanceId() != null) {
            Errors member = GroupCoordinator.validateMember(group, memberId, request.groupInstanceId());
            if (member != Errors.NONE) {
                return member;
            }
            if (generation != group.generationId) {
                return Errors.ILLEGAL_GENERATION;
            }
        } else if (group.state != State.EMPTY) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        return group.state == State.COMPLETING_REBALANCE ? Errors.REBALANCE_IN_PROGRESS : Errors.NONE;
    }

    /** OffsetFetch for one group: the requested partitions (all committed ones when null). */
    public CompletableFuture<OffsetFetchResponseGroup> fetch(String groupId, List<OffsetFetchRequestTopics> requested,
                                                             boolean byTopicId) {
        return groups.onCoordinator(() -> CompletableFuture.completedFuture(doFetch(groupId, requested, byTopicId)));
    }

    private OffsetFetchResponseGroup doFetch(String groupId, List<OffsetFetchRequestTopics> requested, boolean byTopicId) {
        OffsetFetchResponseGroup response = new OffsetFetchResponseGroup().setGroupId(groupId);
        Map<TopicPartition, CommittedOffset> committed = offsets.of(groupId);
        Map<String, OffsetFetchResponseTopics> byTopic = new LinkedHashMap<>();
        if (requested == null) {
            committed.forEach((partition, offset) -> topicResponse(byTopic, partition.topic(), byTopicId).partitions()
                .add(partitionResponse(partition.partition(), offset)));
        } else {
            for (OffsetFetchRequestTopics topic : requested) {
                String name = byTopicId ? topics.nameOf(topic.topicId()) : topic.name();
                OffsetFetchResponseTopics topicResponse = new OffsetFetchResponseTopics().setName(topic.name())
                    .setTopicId(topic.topicId());
                response.topics().add(topicResponse);
                for (int partition : topic.partitionIndexes()) {
                    CommittedOffset offset = name == null ? null : committed.get(new TopicPartition(name, partition));
                    OffsetFetchResponsePartitions answer = partitionResponse(partition, offset);
                    if (name == null && byTopicId) {
                        answer.setErrorCode(Errors.UNKNOWN_TOPIC_ID.code());
                    }
                    topicResponse.partitions().add(answer);
                }
            }
        }
        byTopic.values().forEach(response.topics()::add);
        return response.setErrorCode(Errors.NONE.code());
    }

    private OffsetFetchResponseTopics topicResponse(Map<String, OffsetFetchResponseTopics> byTopic, String name,
                                                    boolean byTopicId) {
        return byTopic.computeIfAbsent(name, topic -> {
            OffsetFetchResponseTopics response = new OffsetFetchResponseTopics().setName(topic);
            if (byTopicId) {
                response.setTopicId(topics.idOf(topic));
            }
            return response;
        });
    }

    private static OffsetFetchResponsePartitions partitionResponse(int partition, CommittedOffset offset) {
        OffsetFetchResponsePartitions response = new OffsetFetchResponsePartitions().setPartitionIndex(partition)
            .setErrorCode(Errors.NONE.code());
        if (offset == null) {
            return response.setCommittedOffset(-1).setCommittedLeaderEpoch(-1).setMetadata("");
        }
        return response.setCommittedOffset(offset.offset()).setCommittedLeaderEpoch(offset.leaderEpoch())
            .setMetadata(offset.metadata() == null ? "" : offset.metadata());
    }

    public CompletableFuture<OffsetDeleteResponseData> delete(OffsetDeleteRequestData request) {
        return groups.onCoordinator(() -> CompletableFuture.completedFuture(doDelete(request)));
    }

    private OffsetDeleteResponseData doDelete(OffsetDeleteRequestData request) {
        OffsetDeleteResponseData response = new OffsetDeleteResponseData();
        String groupId = request.groupId();
        ClassicGroup group = groups.groups.get(groupId);
        ConsumerGroupState consumerGroup = groups.consumerGroups().get(groupId);
        if (group == null && consumerGroup == null && !offsets.hasOffsets(groupId)) {
            return response.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code());
        }
        java.util.Set<String> subscribed = group != null && group.state != State.EMPTY ? group.subscribedTopics()
            : consumerGroup != null ? consumerGroup.subscribedTopics() : java.util.Set.of();
        if (group != null && group.state != State.EMPTY && !"consumer".equals(group.protocolType)) {
            return response.setErrorCode(Errors.NON_EMPTY_GROUP.code());
        }
        List<TopicPartition> deletable = new ArrayList<>();
        for (var topic : request.topics()) {
            var topicResponse = new OffsetDeleteResponseData.OffsetDeleteResponseTopic().setName(topic.name());
            response.topics().add(topicResponse);
            for (var partition : topic.partitions()) {
                Errors error = subscribed.contains(topic.name()) ? Errors.GROUP_SUBSCRIBED_TO_TOPIC : Errors.NONE;
                topicResponse.partitions().add(new OffsetDeleteResponseData.OffsetDeleteResponsePartition()
                    .setPartitionIndex(partition.partitionIndex()).setErrorCode(error.code()));
                if (error == Errors.NONE) {
                    deletable.add(new TopicPartition(topic.name(), partition.partitionIndex()));
                }
            }
        }
        offsets.delete(groupId, deletable);
        return response.setErrorCode(Errors.NONE.code());
    }

    /** Drops the offsets of groups that have been empty, and not committed to, for the retention time. */
    private void expireOffsets() {
        long now = groups.clock.millis();
        long cutoff = now - groups.settings.offsetsRetentionMs();
        for (String groupId : new ArrayList<>(offsets.groups())) {
            ClassicGroup group = groups.groups.get(groupId);
            boolean active = (group != null && group.state != State.EMPTY)
                || groups.consumerGroups().containsKey(groupId) && !groups.consumerGroups().get(groupId).isEmpty();
            if (active || (group != null && group.emptySinceMs > cutoff)) {
                continue;
            }
            List<TopicPartition> expired = offsets.committedBefore(groupId, cutoff);
            if (!expired.isEmpty()) {
                LOG.info("Expiring {} committed offsets of group {} (offsets.retention.minutes)", expired.size(), groupId);
                offsets.delete(groupId, expired);
            }
        }
        forgetEmptyGroups();
    }

    /**
     * Forgets the groups that have neither members nor committed offsets, as Kafka's cleanup deletes them,
     * so that they stop counting against group.max.groups and give back their share of the budget. A
     * classic group with a member that still has to send its second JoinGroup is not empty.
     */
    private void forgetEmptyGroups() {
        for (ClassicGroup group : new ArrayList<>(groups.groups.values())) {
            if (group.state == State.EMPTY && group.members.isEmpty() && group.pendingMembers.isEmpty()
                && !offsets.hasOffsets(group.groupId)) {
                groups.removeClassicGroup(group);
            }
        }
        for (ConsumerGroupState group : new ArrayList<>(groups.consumerGroups().values())) {
            if (group.isEmpty() && !offsets.hasOffsets(group.groupId)) {
                groups.removeConsumerGroup(group);
            }
        }
    }

    /**
     * The live brokers changed, and with them which broker coordinates which group: offsets that other
     * brokers committed for groups this one coordinates now are read from the database.
     */
    public CompletableFuture<Void> coordinatorsMoved() {
        return groups.onCoordinator(() -> {
            try {
                offsets.reload();
            } catch (RuntimeException e) {
                LOG.warn("Reading the committed offsets again after the live brokers changed failed; the ones in"
                    + " memory stay: {}", e.toString());
            }
            return CompletableFuture.completedFuture(null);
        });
    }

    public CompletableFuture<Void> topicDeleted(String topic, boolean here) {
        return groups.onCoordinator(() -> {
            offsets.topicDeleted(topic, here);
            return CompletableFuture.completedFuture(null);
        });
    }
}
