package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.testing.BrokerProcess;
import dev.weir.testing.Clients;
import dev.weir.testing.GroupRequests;
import dev.weir.testing.RawKafkaClient;
import dev.weir.testing.TestBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupRequestData.MemberIdentity;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData.ListedGroup;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatRequest;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatResponse;
import org.apache.kafka.common.requests.DeleteGroupsRequest;
import org.apache.kafka.common.requests.DeleteGroupsResponse;
import org.apache.kafka.common.requests.JoinGroupResponse;
import org.apache.kafka.common.requests.LeaveGroupRequest;
import org.apache.kafka.common.requests.LeaveGroupResponse;
import org.apache.kafka.common.requests.ListGroupsRequest;
import org.apache.kafka.common.requests.ListGroupsResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * group.max.total.metadata.bytes: what the members of all groups hold is bounded, a join beyond the
 * bound gets GROUP_MAX_SIZE_REACHED, and members that leave or expire and groups that are deleted give
 * their share back. Budgets here are a few MiB, so a handful of 1 MB members reaches them.
 */
class GroupMemoryTest {
    /** Just below group.max.member.metadata.bytes (1 MiB, with the protocol's name). */
    private static final byte[] ONE_MEGABYTE = new byte[1_000_000];
    private static final int THIRTY_MINUTES_MS = 30 * 60 * 1000;
    private static final short JOIN_WITHOUT_MEMBER_ID_ROUND = 3;
    private static final short JOIN_WITH_MEMBER_ID_ROUND = 9;

    @TempDir
    Path dataDir;

    private static JoinGroupResponseData join(RawKafkaClient client, String groupId, byte[] metadata,
                                              int sessionTimeoutMs, short version) throws Exception {
        return ((JoinGroupResponse) client.send(GroupRequests.newMember(groupId, metadata, sessionTimeoutMs, version)))
            .data();
    }

    /** Joins 1 MB members into groups {@code prefix-0}, {@code prefix-1}, ... until one is refused. */
    private static List<JoinGroupResponseData> joinUntilRefused(RawKafkaClient client, String prefix,
                                                                int sessionTimeoutMs) throws Exception {
        List<JoinGroupResponseData> joined = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            JoinGroupResponseData response = join(client, prefix + "-" + i, ONE_MEGABYTE, sessionTimeoutMs,
                JOIN_WITHOUT_MEMBER_ID_ROUND);
            if (response.errorCode() != Errors.NONE.code()) {
                assertThat(Errors.forCode(response.errorCode())).isEqualTo(Errors.GROUP_MAX_SIZE_REACHED);
                return joined;
            }
            joined.add(response);
        }
        throw new AssertionError("100 members of 1 MB each joined without a refusal");
    }

    /**
     * The reproduction that once left a broker hung: 1,000 JoinGroup v3 requests to distinct groups,
     * each with 1 MB of metadata and a 30-minute session timeout, pipelined over four connections,
     * against a broker with ./weir's default heap and JVM options and the default settings.
     */
    @Test
    void theReportedFloodIsRefusedBeyondTheDefaultBudgetAndTheBrokerServesOn() throws Exception {
        try (BrokerProcess broker = new BrokerProcess(dataDir.resolve("data"), dataDir.resolve("broker.log"), Map.of(),
            List.of("-Xms256m", "-Xmx1g", "-XX:+ExitOnOutOfMemoryError"))) {
            broker.start(Duration.ofSeconds(60));
            Map<Errors, Integer> answers = new ConcurrentHashMap<>();
            List<Thread> connections = new ArrayList<>();
            AtomicReference<Exception> failure = new AtomicReference<>();
            for (int c = 0; c < 4; c++) {
                String prefix = "flood-" + c + "-";
                Thread connection = new Thread(() -> {
                    try (RawKafkaClient client = new RawKafkaClient(broker.port())) {
                        client.sendAll(250, i -> GroupRequests.newMember(prefix + i, ONE_MEGABYTE, THIRTY_MINUTES_MS,
                            JOIN_WITHOUT_MEMBER_ID_ROUND), answer -> answers.merge(
                                ((JoinGroupResponse) answer).error(), 1, Integer::sum));
                    } catch (Exception e) {
                        failure.compareAndSet(null, e);
                    }
                });
                connection.start();
                connections.add(connection);
            }
            for (Thread connection : connections) {
                connection.join();
            }
            assertThat(failure.get()).as("every request answered").isNull();
            assertThat(answers).containsOnlyKeys(Errors.NONE, Errors.GROUP_MAX_SIZE_REACHED);
            assertThat(answers.get(Errors.NONE) + answers.get(Errors.GROUP_MAX_SIZE_REACHED)).isEqualTo(1000);
            // The default budget (128 MiB, of which members this large may take seven eighths) admits about 117.
            assertThat(answers.get(Errors.NONE)).isBetween(100, 130);
            assertThat(broker.isAlive()).isTrue();
            long reports = broker.logSinceStart().lines().filter(line -> line.contains("Refused")).count();
            assertThat(reports).as("refusals are logged now and then, not once each")
                .isLessThan(answers.get(Errors.GROUP_MAX_SIZE_REACHED) / 10);

            Properties client = broker.clientProperties();
            try (Admin admin = Admin.create(client)) {
                admin.createTopics(List.of(new NewTopic("after-flood", 2, (short) 1))).all().get();
            }
            try (KafkaProducer<String, String> producer = Clients.producer(client, Map.of("acks", "all"))) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>("after-flood", "k" + i, "v" + i)).get();
                }
            }
            try (KafkaConsumer<String, String> consumer = Clients.consumer(client, Map.of("group.id", "ordinary",
                "auto.offset.reset", "earliest"))) {
                consumer.subscribe(List.of("after-flood"));
                List<String> values = new ArrayList<>();
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    consumer.poll(Duration.ofMillis(100)).forEach(record -> values.add(record.value()));
                    return values.size() >= 10;
                });
                consumer.commitSync();
                assertThat(values).hasSize(10);
            }
        }
    }

    @Test
    void joinsBeyondTheBudgetAreRefusedUntilAMemberLeaves() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir, Map.of("group.max.total.metadata.bytes", "4194304"));
             RawKafkaClient client = new RawKafkaClient(broker.port())) {
            List<JoinGroupResponseData> joined = joinUntilRefused(client, "heavy", THIRTY_MINUTES_MS);
            assertThat(joined).hasSizeBetween(1, 3);
            assertThat(join(client, "heavy-again", ONE_MEGABYTE, THIRTY_MINUTES_MS, JOIN_WITHOUT_MEMBER_ID_ROUND)
                .errorCode()).isEqualTo(Errors.GROUP_MAX_SIZE_REACHED.code());
            assertThat(join(client, "ordinary", new byte[100], THIRTY_MINUTES_MS, JOIN_WITHOUT_MEMBER_ID_ROUND)
                .errorCode()).as("the last eighth of the budget stays for ordinary members").isZero();

            LeaveGroupResponse left = (LeaveGroupResponse) client.send(new LeaveGroupRequest.Builder("heavy-0",
                List.of(new MemberIdentity().setMemberId(joined.get(0).memberId()))).build((short) 3));
            assertThat(left.error()).isEqualTo(Errors.NONE);
            assertThat(join(client, "heavy-again", ONE_MEGABYTE, THIRTY_MINUTES_MS, JOIN_WITHOUT_MEMBER_ID_ROUND)
                .errorCode()).isZero();
        }
    }

    @Test
    void membersThatExpireGiveTheirShareBack() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir, Map.of("group.max.total.metadata.bytes", "4194304",
            "group.min.session.timeout.ms", "100"));
             RawKafkaClient client = new RawKafkaClient(broker.port())) {
            assertThat(joinUntilRefused(client, "short-lived", 500)).isNotEmpty();
            // Nobody heartbeats: the members expire after 500 ms and their metadata is released.
            await().atMost(Duration.ofSeconds(30)).until(() -> join(client, "after-expiry", ONE_MEGABYTE,
                THIRTY_MINUTES_MS, JOIN_WITHOUT_MEMBER_ID_ROUND).errorCode() == Errors.NONE.code());
        }
    }

    @Test
    void deletedGroupsGiveTheirShareBack() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir, Map.of("group.max.total.metadata.bytes", "1048576"));
             RawKafkaClient client = new RawKafkaClient(broker.port())) {
            // A group's id is part of what it holds: 32,000 characters take about 64 kB.
            String longId = "g".repeat(32_000);
            List<String> created = fillWithEmptyGroups(client, longId);
            assertThat(created).isNotEmpty();
            DeleteGroupsResponse deleted = (DeleteGroupsResponse) client.send(new DeleteGroupsRequest.Builder(
                new DeleteGroupsRequestData().setGroupsNames(created)).build((short) 2));
            assertThat(deleted.errorCounts()).containsOnlyKeys(Errors.NONE);
            assertThat(join(client, "after-delete" + longId, new byte[1], THIRTY_MINUTES_MS, JOIN_WITH_MEMBER_ID_ROUND)
                .errorCode()).isEqualTo(Errors.MEMBER_ID_REQUIRED.code());
        }
    }

    /** Creates groups with 32,000-character ids and no members until the budget refuses one; returns their ids. */
    private static List<String> fillWithEmptyGroups(RawKafkaClient client, String longId) throws Exception {
        List<String> created = new ArrayList<>();
        for (int i = 0; ; i++) {
            String groupId = i + longId;
            JoinGroupResponseData response = join(client, groupId, new byte[1], THIRTY_MINUTES_MS,
                JOIN_WITH_MEMBER_ID_ROUND);
            if (response.errorCode() == Errors.GROUP_MAX_SIZE_REACHED.code()) {
                return created;
            }
            assertThat(Errors.forCode(response.errorCode())).isEqualTo(Errors.MEMBER_ID_REQUIRED);
            LeaveGroupResponse left = (LeaveGroupResponse) client.send(new LeaveGroupRequest.Builder(groupId,
                List.of(new MemberIdentity().setMemberId(response.memberId()))).build((short) 3));
            assertThat(left.error()).isEqualTo(Errors.NONE);
            created.add(groupId);
            assertThat(created).as("groups before the budget refused one").hasSizeLessThan(100);
        }
    }

    @Test
    void emptyGroupsWithoutOffsetsAreForgottenAtTheOffsetsCleanup() throws Exception {
        // With one minute of offsets retention the cleanup runs every six seconds.
        try (TestBroker broker = new TestBroker(dataDir, Map.of("group.max.total.metadata.bytes", "1048576",
            "offsets.retention.minutes", "1"));
             RawKafkaClient client = new RawKafkaClient(broker.port())) {
            String longId = "f".repeat(32_000);
            List<String> created = fillWithEmptyGroups(client, longId);
            assertThat(created).isNotEmpty();
            await().atMost(Duration.ofSeconds(30)).until(() -> join(client, "after-cleanup" + longId, new byte[1],
                THIRTY_MINUTES_MS, JOIN_WITH_MEMBER_ID_ROUND).errorCode() == Errors.MEMBER_ID_REQUIRED.code());
            ListGroupsResponse listed = (ListGroupsResponse) client.send(new ListGroupsRequest.Builder(
                new ListGroupsRequestData()).build((short) 4));
            assertThat(listed.data().groups()).extracting(ListedGroup::groupId).doesNotContainAnyElementsOf(created);
        }
    }

    private static ConsumerGroupHeartbeatResponseData heartbeat(RawKafkaClient client,
                                                                ConsumerGroupHeartbeatRequestData data) throws Exception {
        return ((ConsumerGroupHeartbeatResponse) client.send(new ConsumerGroupHeartbeatRequest.Builder(data)
            .build((short) 0))).data();
    }

    private static ConsumerGroupHeartbeatRequestData joining(String groupId, int topics) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < topics; i++) {
            names.add(String.format("subscribed-topic-%043d", i));
        }
        return new ConsumerGroupHeartbeatRequestData().setGroupId(groupId).setMemberId("").setMemberEpoch(0)
            .setRebalanceTimeoutMs(30_000).setSubscribedTopicNames(names).setTopicPartitions(List.of());
    }

    @Test
    void consumerProtocolMembersAreChargedForTheirSubscriptions() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir, Map.of("group.max.total.metadata.bytes", "1048576"));
             RawKafkaClient client = new RawKafkaClient(broker.port())) {
            // 5,000 names of 60 characters: about 1.1 MB, more than the whole budget.
            assertThat(Errors.forCode(heartbeat(client, joining("too-big", 5000)).errorCode()))
                .isEqualTo(Errors.GROUP_MAX_SIZE_REACHED);
            ConsumerGroupHeartbeatResponseData first = heartbeat(client, joining("first", 2500));
            assertThat(first.errorCode()).isZero();
            assertThat(Errors.forCode(heartbeat(client, joining("second", 2500)).errorCode()))
                .isEqualTo(Errors.GROUP_MAX_SIZE_REACHED);
            ConsumerGroupHeartbeatResponseData left = heartbeat(client, new ConsumerGroupHeartbeatRequestData()
                .setGroupId("first").setMemberId(first.memberId()).setMemberEpoch(-1));
            assertThat(left.errorCode()).isZero();
            assertThat(heartbeat(client, joining("second", 2500)).errorCode()).isZero();
        }
    }
}
