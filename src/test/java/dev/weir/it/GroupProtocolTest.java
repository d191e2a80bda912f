package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.testing.RawKafkaClient;
import dev.weir.testing.TestBroker;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocolCollection;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestPartition;
import org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestTopic;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.HeartbeatRequest;
import org.apache.kafka.common.requests.HeartbeatResponse;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.JoinGroupResponse;
import org.apache.kafka.common.requests.OffsetCommitRequest;
import org.apache.kafka.common.requests.OffsetCommitResponse;
import org.apache.kafka.common.requests.SyncGroupRequest;
import org.apache.kafka.common.requests.SyncGroupResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The group coordinator's answers to requests no well-behaved client sends. */
class GroupProtocolTest {
    @TempDir
    static Path dataDir;
    static TestBroker broker;
    static RawKafkaClient client;

    @BeforeAll
    static void start() throws Exception {
        broker = new TestBroker(dataDir, Map.of("group.max.member.metadata.bytes", "4096", "group.max.size", "2"));
        client = new RawKafkaClient(broker.port());
    }

    @AfterAll
    static void stop() throws Exception {
        client.close();
        broker.close();
    }

    private static JoinGroupResponseData join(String group, String memberId, String protocolType, int sessionTimeoutMs,
                                              byte[] metadata) throws Exception {
        JoinGroupRequestProtocolCollection protocols = new JoinGroupRequestProtocolCollection();
        protocols.add(new JoinGroupRequestProtocol().setName("range").setMetadata(metadata));
        JoinGroupRequestData data = new JoinGroupRequestData().setGroupId(group).setMemberId(memberId)
            .setProtocolType(protocolType).setSessionTimeoutMs(sessionTimeoutMs).setRebalanceTimeoutMs(10_000)
            .setProtocols(protocols);
        return ((JoinGroupResponse) client.send(new JoinGroupRequest(data, (short) 9))).data();
    }

    @Test
    void badJoinsGetKafkasErrorCodes() throws Exception {
        assertThat(join("g", "", "consumer", 10, new byte[1]).errorCode()).isEqualTo(Errors.INVALID_SESSION_TIMEOUT.code());
        assertThat(join("g", "", "consumer", Integer.MAX_VALUE, new byte[1]).errorCode())
            .isEqualTo(Errors.INVALID_SESSION_TIMEOUT.code());
        assertThat(join("", "", "consumer", 10_000, new byte[1]).errorCode()).isEqualTo(Errors.INVALID_GROUP_ID.code());
        assertThat(join("g", "", "", 10_000, new byte[1]).errorCode()).isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL.code());
        assertThat(join("g", "", "consumer", 10_000, new byte[100_000]).errorCode()).isEqualTo(Errors.INVALID_REQUEST.code());
        assertThat(join("g", "no-such-member", "consumer", 10_000, new byte[1]).errorCode())
            .isEqualTo(Errors.UNKNOWN_MEMBER_ID.code());
    }

    @Test
    void aGroupRunsThroughJoinSyncHeartbeatAndRefusesStaleGenerations() throws Exception {
        JoinGroupResponseData first = join("life", "", "consumer", 10_000, new byte[] {1});
        assertThat(first.errorCode()).isEqualTo(Errors.MEMBER_ID_REQUIRED.code());
        JoinGroupResponseData joined = join("life", first.memberId(), "consumer", 10_000, new byte[] {1});
        assertThat(joined.errorCode()).isZero();
        assertThat(joined.leader()).isEqualTo(first.memberId());
        assertThat(joined.members()).hasSize(1);
        assertThat(join("life", "", "other-type", 10_000, new byte[1]).errorCode())
            .isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL.code());

        SyncGroupRequestData sync = new SyncGroupRequestData().setGroupId("life").setMemberId(joined.memberId())
            .setGenerationId(joined.generationId()).setProtocolType("consumer").setProtocolName("range")
            .setAssignments(List.of(new SyncGroupRequestData.SyncGroupRequestAssignment()
                .setMemberId(joined.memberId()).setAssignment(new byte[] {7, 7})));
        SyncGroupResponse synced = (SyncGroupResponse) client.send(new SyncGroupRequest(sync, (short) 5));
        assertThat(synced.data().errorCode()).isZero();
        assertThat(synced.data().assignment()).containsExactly(7, 7);

        HeartbeatResponse beat = (HeartbeatResponse) client.send(new HeartbeatRequest.Builder(new HeartbeatRequestData()
            .setGroupId("life").setMemberId(joined.memberId()).setGenerationId(joined.generationId())).build((short) 4));
        assertThat(beat.data().errorCode()).isZero();
        HeartbeatResponse stale = (HeartbeatResponse) client.send(new HeartbeatRequest.Builder(new HeartbeatRequestData()
            .setGroupId("life").setMemberId(joined.memberId()).setGenerationId(joined.generationId() - 1)).build((short) 4));
        assertThat(stale.data().errorCode()).isEqualTo(Errors.ILLEGAL_GENERATION.code());

        JoinGroupResponseData second = join("life", "", "consumer", 10_000, new byte[] {1});
        JoinGroupResponseData third = join("life", "", "consumer", 10_000, new byte[] {1});
        assertThat(second.errorCode()).isEqualTo(Errors.MEMBER_ID_REQUIRED.code());
        assertThat(third.errorCode()).isEqualTo(Errors.GROUP_MAX_SIZE_REACHED.code());
    }

    @Test
    void offsetsForMissingPartitionsAndOversizedMetadataAreRefusedPerPartition() throws Exception {
        client.send(new org.apache.kafka.common.requests.CreateTopicsRequest(
            new org.apache.kafka.common.message.CreateTopicsRequestData().setTopics(
                new org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopicCollection(List.of(
                    new org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopic().setName("offsets-topic")
                        .setNumPartitions(1).setReplicationFactor((short) 1)).iterator())), (short) 7));
        OffsetCommitRequestData data = new OffsetCommitRequestData().setGroupId("simple").setGenerationIdOrMemberEpoch(-1)
            .setMemberId("").setTopics(List.of(
                new OffsetCommitRequestTopic().setName("offsets-topic").setPartitions(List.of(
                    new OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(5),
                    new OffsetCommitRequestPartition().setPartitionIndex(9).setCommittedOffset(5),
                    new OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(6)
                        .setCommittedMetadata("x".repeat(5000)))),
                new OffsetCommitRequestTopic().setName("no-such-topic").setPartitions(List.of(
                    new OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(1)))));
        OffsetCommitResponse response = (OffsetCommitResponse) client.send(new OffsetCommitRequest(data, (short) 9));
        var topics = response.data().topics();
        assertThat(topics.get(0).partitions()).extracting(p -> Errors.forCode(p.errorCode())).containsExactly(
            Errors.NONE, Errors.UNKNOWN_TOPIC_OR_PARTITION, Errors.OFFSET_METADATA_TOO_LARGE);
        assertThat(topics.get(1).partitions().get(0).errorCode()).isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        OffsetCommitRequestData member = new OffsetCommitRequestData().setGroupId("simple").setGenerationIdOrMemberEpoch(3)
            .setMemberId("ghost").setTopics(data.topics().subList(0, 1));
        OffsetCommitResponse ghost = (OffsetCommitResponse) client.send(new OffsetCommitRequest(member, (short) 9));
        assertThat(ghost.data().topics().get(0).partitions().get(0).errorCode()).isEqualTo(Errors.ILLEGAL_GENERATION.code());
    }
}
