package dev.weir.groups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData.DescribedGroup;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData.TopicPartitions;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocolCollection;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The consumer group protocol on a real coordinator thread, with a small in-test topic table. */
class ConsumerGroupCoordinatorTest {
    private static final String GROUP = "g";

    /** Topics by name: id and partition count; thread-safe so tests can change them. */
    private static final class Topics implements TopicLookup {
        final Map<String, Uuid> ids = new ConcurrentHashMap<>();
        final Map<String, Integer> partitions = new ConcurrentHashMap<>();

        Topics with(String name, int count) {
            ids.putIfAbsent(name, Uuid.randomUuid());
            partitions.put(name, count);
            return this;
        }

        @Override
        public String nameOf(Uuid topicId) {
            return ids.entrySet().stream().filter(e -> e.getValue().equals(topicId)).map(Map.Entry::getKey)
                .findFirst().orElse(null);
        }

        @Override
        public Uuid idOf(String topic) {
            return ids.getOrDefault(topic, Uuid.ZERO_UUID);
        }

        @Override
        public boolean exists(String topic, int partition) {
            return partition >= 0 && partition < partitions.getOrDefault(topic, 0);
        }

        @Override
        public int partitionCount(String topic) {
            return partitions.getOrDefault(topic, 0);
        }

        @Override
        public Collection<String> topicNames() {
            return new ArrayList<>(ids.keySet());
        }
    }

    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    private final Topics topics = new Topics().with("t", 6).with("u", 3);
    private GroupCoordinator groups;
    private ConsumerGroupCoordinator coordinator;

    private void start(int maxGroupSize, int sessionTimeoutMs) {
        groups = new GroupCoordinator(executor, Clock.systemUTC(), new GroupSettings(6000, 1_800_000, 0, maxGroupSize,
            1 << 20, 4096, 1000, 604_800_000L, 100, sessionTimeoutMs, 128L << 20));
        coordinator = new ConsumerGroupCoordinator(groups, topics);
    }

    private void start() {
        start(10, 30_000);
    }

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    private ConsumerGroupHeartbeatResponseData send(ConsumerGroupHeartbeatRequestData request) throws Exception {
        return coordinator.heartbeat(request, "client", "/127.0.0.1").get(5, TimeUnit.SECONDS);
    }

    private <T> T onCoordinator(Supplier<T> read) throws Exception {
        return groups.onCoordinator(() -> CompletableFuture.completedFuture(read.get())).get(5, TimeUnit.SECONDS);
    }

    private static ConsumerGroupHeartbeatRequestData join(String memberId, String... subscribed) {
        return new ConsumerGroupHeartbeatRequestData().setGroupId(GROUP).setMemberId(memberId).setMemberEpoch(0)
            .setRebalanceTimeoutMs(30_000).setSubscribedTopicNames(List.of(subscribed)).setTopicPartitions(List.of());
    }

    private static ConsumerGroupHeartbeatRequestData beat(String memberId, int epoch) {
        return new ConsumerGroupHeartbeatRequestData().setGroupId(GROUP).setMemberId(memberId).setMemberEpoch(epoch);
    }

    private List<TopicPartitions> owned(Map<String, Set<Integer>> partitions) {
        List<TopicPartitions> owned = new ArrayList<>();
        partitions.forEach((topic, set) -> owned.add(new TopicPartitions().setTopicId(topics.idOf(topic))
            .setPartitions(new ArrayList<>(new TreeSet<>(set)))));
        return owned;
    }

    private Set<Integer> partitionsOf(ConsumerGroupHeartbeatResponseData response, String topic) {
        Set<Integer> partitions = new TreeSet<>();
        response.assignment().topicPartitions().stream().filter(tp -> tp.topicId().equals(topics.idOf(topic)))
            .forEach(tp -> partitions.addAll(tp.partitions()));
        return partitions;
    }

    private static void assertError(ConsumerGroupHeartbeatResponseData response, Errors expected) {
        assertThat(Errors.forCode(response.errorCode())).isEqualTo(expected);
    }

    @Test
    void aLoneMemberGetsEveryPartitionOfItsTopics() throws Exception {
        start();
        ConsumerGroupHeartbeatResponseData response = send(join("m1", "t", "u", "missing"));
        assertError(response, Errors.NONE);
        assertThat(response.memberId()).isEqualTo("m1");
        assertThat(response.memberEpoch()).isEqualTo(1);
        assertThat(response.heartbeatIntervalMs()).isEqualTo(100);
        assertThat(partitionsOf(response, "t")).containsExactly(0, 1, 2, 3, 4, 5);
        assertThat(partitionsOf(response, "u")).containsExactly(0, 1, 2);
        ConsumerGroupHeartbeatResponseData steady = send(beat("m1", 1));
        assertThat(steady.memberEpoch()).isEqualTo(1);
        assertThat(steady.assignment()).as("unchanged assignment is not resent").isNull();
        assertThat(onCoordinator(() -> groups.consumerGroups().get(GROUP).stateName())).isEqualTo("Stable");
    }

    @Test
    void version0MembersGetAGeneratedId() throws Exception {
        start();
        ConsumerGroupHeartbeatResponseData response = send(join("", "t"));
        assertError(response, Errors.NONE);
        assertThat(response.memberId()).isNotEmpty();
    }

    @Test
    void aPartitionMovesOnlyAfterItsOwnerRevokesIt() throws Exception {
        start();
        send(join("m1", "t"));
        ConsumerGroupHeartbeatResponseData second = send(join("m2", "t"));
        assertThat(second.memberEpoch()).isEqualTo(2);
        assertThat(second.assignment().topicPartitions()).as("all its partitions are still owned by m1").isEmpty();
        assertThat(onCoordinator(() -> groups.consumerGroups().get(GROUP).stateName())).isEqualTo("Reconciling");

        ConsumerGroupHeartbeatResponseData revoke = send(beat("m1", 1));
        assertThat(revoke.memberEpoch()).as("m1 stays at epoch 1 until it revokes").isEqualTo(1);
        Set<Integer> kept = partitionsOf(revoke, "t");
        assertThat(kept).hasSize(3);
        assertThat(onCoordinator(() -> groups.consumerGroups().get(GROUP).validateCommit("m1", 1))).isEqualTo(Errors.NONE);

        ConsumerGroupHeartbeatResponseData stillWaiting = send(beat("m2", 2));
        assertThat(stillWaiting.assignment()).isNull();

        ConsumerGroupHeartbeatResponseData revoked = send(beat("m1", 1).setTopicPartitions(owned(Map.of("t", kept))));
        assertThat(revoked.memberEpoch()).isEqualTo(2);
        assertThat(partitionsOf(revoked, "t")).as("a new epoch comes with the assignment").isEqualTo(kept);
        assertThat(onCoordinator(() -> groups.consumerGroups().get(GROUP).validateCommit("m1", 1)))
            .isEqualTo(Errors.STALE_MEMBER_EPOCH);

        ConsumerGroupHeartbeatResponseData released = send(beat("m2", 2));
        Set<Integer> taken = partitionsOf(released, "t");
        assertThat(taken).hasSize(3).doesNotContainAnyElementsOf(kept);
        assertThat(onCoordinator(() -> groups.consumerGroups().get(GROUP).stateName())).isEqualTo("Stable");
    }

    @Test
    void theResponseWithTheBumpedEpochMayBeLost() throws Exception {
        start();
        send(join("m1", "t"));
        send(join("m2", "t"));
        Set<Integer> kept = partitionsOf(send(beat("m1", 1)), "t");
        send(beat("m1", 1).setTopicPartitions(owned(Map.of("t", kept))));
        ConsumerGroupHeartbeatResponseData retried = send(beat("m1", 1).setTopicPartitions(owned(Map.of("t", kept))));
        assertError(retried, Errors.NONE);
        assertThat(retried.memberEpoch()).isEqualTo(2);
        assertError(send(beat("m1", 1).setTopicPartitions(owned(Map.of("t", Set.of(0, 1, 2, 3, 4, 5))))),
            Errors.FENCED_MEMBER_EPOCH);
    }

    @Test
    void aLeavingMembersPartitionsGoToTheOthers() throws Exception {
        start();
        send(join("m1", "t"));
        send(join("m2", "t"));
        Set<Integer> kept = partitionsOf(send(beat("m1", 1)), "t");
        send(beat("m1", 1).setTopicPartitions(owned(Map.of("t", kept))));
        send(beat("m2", 2));
        ConsumerGroupHeartbeatResponseData left = send(beat("m1", -1));
        assertError(left, Errors.NONE);
        assertThat(left.memberEpoch()).isEqualTo(-1);
        ConsumerGroupHeartbeatResponseData all = send(beat("m2", 2));
        assertThat(all.memberEpoch()).isEqualTo(3);
        assertThat(partitionsOf(all, "t")).containsExactly(0, 1, 2, 3, 4, 5);
        send(beat("m2", -1));
        assertThat(onCoordinator(() -> groups.consumerGroups().get(GROUP).stateName())).isEqualTo("Empty");
        assertThat(onCoordinator(() -> groups.consumerGroups().get(GROUP).validateCommit("", -1))).isEqualTo(Errors.NONE);
    }

    @Test
    void errorsFollowKafka() throws Exception {
        start(2, 30_000);
        assertError(send(beat("ghost", 3)), Errors.UNKNOWN_MEMBER_ID);
        assertError(send(join("m1", "t").setRebalanceTimeoutMs(-1)), Errors.INVALID_REQUEST);
        assertError(send(join("m1", "t").setTopicPartitions(null)), Errors.INVALID_REQUEST);
        assertError(send(join("m1").setSubscribedTopicNames(null)), Errors.INVALID_REQUEST);
        assertError(send(join("m1", "t").setServerAssignor("sticky")), Errors.UNSUPPORTED_ASSIGNOR);
        assertError(send(join("m1").setSubscribedTopicNames(null).setSubscribedTopicRegex("(")),
            Errors.INVALID_REGULAR_EXPRESSION);
        assertError(send(beat("m1", -3)), Errors.INVALID_REQUEST);
        assertError(send(beat("", 1)), Errors.INVALID_REQUEST);
        assertThat(onCoordinator(() -> groups.consumerGroups().containsKey(GROUP)))
            .as("failed joins leave no group behind").isFalse();
        send(join("m1", "t"));
        send(join("m2", "t"));
        assertError(send(join("m3", "t")), Errors.GROUP_MAX_SIZE_REACHED);
        assertError(send(beat("m1", 7)), Errors.FENCED_MEMBER_EPOCH);
        assertError(send(beat("m3", 1)), Errors.UNKNOWN_MEMBER_ID);
        assertError(send(beat("m3", -1)), Errors.UNKNOWN_MEMBER_ID);
        assertError(send(beat("m1", -1).setGroupId("nope")), Errors.GROUP_ID_NOT_FOUND);
    }

    @Test
    void aNonEmptyClassicGroupIsNotAConsumerGroup() throws Exception {
        start();
        JoinGroupRequestProtocolCollection protocols = new JoinGroupRequestProtocolCollection();
        protocols.add(new JoinGroupRequestProtocol().setName("range").setMetadata(new byte[0]));
        groups.join(new JoinGroupRequestData().setGroupId(GROUP).setMemberId("").setProtocolType("consumer")
            .setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(10_000).setProtocols(protocols), "c", "h", (short) 3)
            .get(5, TimeUnit.SECONDS);
        assertError(send(join("m1", "t")), Errors.GROUP_ID_NOT_FOUND);
        List<DescribedGroup> described = coordinator.describe(List.of(GROUP, "other"), false).get(5, TimeUnit.SECONDS);
        assertThat(described).allSatisfy(group ->
            assertThat(group.errorCode()).isEqualTo(Errors.GROUP_ID_NOT_FOUND.code()));
    }

    @Test
    void staticMembersKeepTheirPartitionsAcrossARestart() throws Exception {
        start();
        ConsumerGroupHeartbeatResponseData first = send(join("a1", "t").setInstanceId("i1"));
        assertThat(first.memberEpoch()).isEqualTo(1);
        assertError(send(join("a2", "t").setInstanceId("i1")), Errors.UNRELEASED_INSTANCE_ID);
        ConsumerGroupHeartbeatResponseData left = send(beat("a1", -2).setInstanceId("i1"));
        assertError(left, Errors.NONE);
        assertThat(left.memberEpoch()).isEqualTo(-2);
        ConsumerGroupHeartbeatResponseData back = send(join("a2", "t").setInstanceId("i1"));
        assertError(back, Errors.NONE);
        assertThat(back.memberEpoch()).as("no rebalance for a returning static member").isEqualTo(1);
        assertThat(partitionsOf(back, "t")).containsExactly(0, 1, 2, 3, 4, 5);
        assertError(send(beat("a1", 1).setInstanceId("i1")), Errors.FENCED_INSTANCE_ID);
        assertError(send(beat("a9", 1).setInstanceId("i9")), Errors.UNKNOWN_MEMBER_ID);
        assertError(send(beat("a2", 1).setInstanceId("i1")), Errors.NONE);
    }

    @Test
    void aSilentMemberIsRemovedAfterItsSessionTimeout() throws Exception {
        start(10, 300);
        send(join("m1", "t"));
        send(join("m2", "t"));
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            ConsumerGroupHeartbeatResponseData response = send(beat("m1", 1).setTopicPartitions(null));
            assertError(response, Errors.NONE);
            assertThat(onCoordinator(() -> groups.consumerGroups().get(GROUP).members.keySet())).containsOnly("m1");
        });
        ConsumerGroupHeartbeatResponseData all = send(beat("m1", 1).setTopicPartitions(owned(Map.of("t", Set.of(0, 1, 2)))));
        assertThat(all.memberEpoch()).isGreaterThan(2);
        assertThat(partitionsOf(all, "t")).containsExactly(0, 1, 2, 3, 4, 5);
    }

    @Test
    void aMemberThatDoesNotRevokeInTimeIsFenced() throws Exception {
        start();
        send(join("m1", "t").setRebalanceTimeoutMs(200));
        send(join("m2", "t"));
        assertThat(partitionsOf(send(beat("m1", 1)), "t")).hasSize(3);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
            assertThat(onCoordinator(() -> groups.consumerGroups().get(GROUP).members.keySet())).containsOnly("m2"));
        assertError(send(beat("m1", 1)), Errors.UNKNOWN_MEMBER_ID);
        assertThat(partitionsOf(send(beat("m2", 2)), "t")).containsExactly(0, 1, 2, 3, 4, 5);
    }

    @Test
    void theRangeAssignorCoPartitions() throws Exception {
        start();
        send(join("b", "t", "u").setServerAssignor("range"));
        send(join("a", "t", "u").setServerAssignor("range"));
        ConsumerGroupHeartbeatResponseData a = send(beat("a", 2));
        assertThat(a.assignment()).isNull();
        ConsumerGroupHeartbeatResponseData b = send(beat("b", 1));
        Set<Integer> bKeeps = partitionsOf(b, "t");
        assertThat(bKeeps).containsExactly(3, 4, 5);
        assertThat(partitionsOf(b, "u")).containsExactly(2);
        send(beat("b", 1).setTopicPartitions(owned(Map.of("t", bKeeps, "u", Set.of(2)))));
        a = send(beat("a", 2));
        assertThat(partitionsOf(a, "t")).containsExactly(0, 1, 2);
        assertThat(partitionsOf(a, "u")).containsExactly(0, 1);
        DescribedGroup described = coordinator.describe(List.of(GROUP), true).get(5, TimeUnit.SECONDS).get(0);
        assertThat(described.assignorName()).isEqualTo("range");
        assertThat(described.groupState()).isEqualTo("Stable");
        assertThat(described.members()).hasSize(2);
        assertThat(described.authorizedOperations()).isNotEqualTo(Integer.MIN_VALUE);
    }

    @Test
    void changingTheSubscriptionRevokesTheTopicsDropped() throws Exception {
        start();
        send(join("m1", "t"));
        ConsumerGroupHeartbeatResponseData changed = send(beat("m1", 1).setSubscribedTopicNames(List.of("u")));
        assertThat(changed.memberEpoch()).isEqualTo(1);
        assertThat(changed.assignment().topicPartitions()).as("t is revoked first").isEmpty();
        ConsumerGroupHeartbeatResponseData moved = send(beat("m1", 1).setTopicPartitions(List.of()));
        assertThat(moved.memberEpoch()).isEqualTo(2);
        assertThat(partitionsOf(moved, "u")).containsExactly(0, 1, 2);
    }

    @Test
    void regexSubscriptionsAndNewPartitionsAreFollowed() throws Exception {
        start();
        topics.with("orders-eu", 2).with("orders-us", 1);
        ConsumerGroupHeartbeatResponseData joined = send(join("m1").setSubscribedTopicNames(null)
            .setSubscribedTopicRegex("orders-.*"));
        assertThat(partitionsOf(joined, "orders-eu")).containsExactly(0, 1);
        assertThat(partitionsOf(joined, "orders-us")).containsExactly(0);
        assertThat(onCoordinator(() -> groups.consumerGroups().get(GROUP).subscribedTopics()))
            .containsExactlyInAnyOrder("orders-eu", "orders-us");
        topics.with("orders-eu", 4);
        ConsumerGroupHeartbeatResponseData grown = send(beat("m1", 1));
        assertThat(grown.memberEpoch()).isEqualTo(2);
        assertThat(partitionsOf(grown, "orders-eu")).containsExactly(0, 1, 2, 3);
    }

    @Test
    void commitsAreValidatedAgainstTheMemberEpoch() throws Exception {
        start();
        assertThat(new ConsumerGroupState("x").validateCommit("", -1)).isEqualTo(Errors.NONE);
        send(join("m1", "t"));
        ConsumerGroupState group = onCoordinator(() -> groups.consumerGroups().get(GROUP));
        assertThat(onCoordinator(() -> group.validateCommit("", -1))).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(onCoordinator(() -> group.validateCommit("other", 1))).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(onCoordinator(() -> group.validateCommit("m1", 2))).isEqualTo(Errors.STALE_MEMBER_EPOCH);
        assertThat(onCoordinator(() -> group.validateCommit("m1", 1))).isEqualTo(Errors.NONE);
        assertThat(onCoordinator(group::isEmpty)).isFalse();
        assertThat(onCoordinator(group::subscribedTopics)).containsExactly("t");
    }

    @Test
    void theUniformAssignorBalancesAndKeepsWhatItCan() {
        Uuid t = Uuid.randomUuid();
        List<ServerAssignor.Topic> topicList = List.of(new ServerAssignor.Topic(t, "t", 10));
        List<ServerAssignor.MemberSpec> three = List.of(spec("a", t, Map.of()), spec("b", t, Map.of()),
            spec("c", t, Map.of()));
        Map<String, Map<Uuid, Set<Integer>>> first = UniformAssignor.INSTANCE.assign(three, topicList);
        assertThat(first.values().stream().mapToInt(m -> m.getOrDefault(t, Set.of()).size()))
            .containsExactlyInAnyOrder(4, 3, 3);
        Set<Integer> all = new HashSet<>();
        first.values().forEach(m -> all.addAll(m.get(t)));
        assertThat(all).hasSize(10);
        List<ServerAssignor.MemberSpec> two = List.of(spec("a", t, first.get("a")), spec("b", t, first.get("b")));
        Map<String, Map<Uuid, Set<Integer>>> second = UniformAssignor.INSTANCE.assign(two, topicList);
        assertThat(second.get("a").get(t)).containsAll(first.get("a").get(t)).hasSize(5);
        assertThat(second.get("b").get(t)).containsAll(first.get("b").get(t)).hasSize(5);
    }

    private static ServerAssignor.MemberSpec spec(String id, Uuid topic, Map<Uuid, Set<Integer>> current) {
        return new ServerAssignor.MemberSpec(id, null, Set.of(topic), current);
    }

    /** A simulated client: what it believes it owns, and the latest assignment it has not applied yet. */
    private static final class SimulatedClient {
        final String memberId;
        List<String> topics = List.of("t");
        int epoch = -1;
        Map<Uuid, Set<Integer>> owned = new HashMap<>();
        Map<Uuid, Set<Integer>> target;
        boolean reportOwned;

        SimulatedClient(String memberId) {
            this.memberId = memberId;
        }

        boolean inGroup() {
            return epoch >= 0;
        }

        void apply() {
            if (target != null) {
                owned = target;
                target = null;
                reportOwned = true;
            }
        }

        List<TopicPartitions> ownedReport() {
            List<TopicPartitions> report = new ArrayList<>();
            owned.forEach((id, set) -> report.add(new TopicPartitions().setTopicId(id)
                .setPartitions(new ArrayList<>(new TreeSet<>(set)))));
            return report;
        }
    }

    private void heartbeat(SimulatedClient client, boolean changeSubscription) throws Exception {
        ConsumerGroupHeartbeatRequestData request;
        if (!client.inGroup()) {
            request = join(client.memberId, client.topics.toArray(String[]::new));
        } else {
            request = beat(client.memberId, client.epoch);
            if (client.reportOwned) {
                request.setTopicPartitions(client.ownedReport());
                client.reportOwned = false;
            }
            if (changeSubscription) {
                client.topics = client.topics.contains("u") ? List.of("t") : List.of("t", "u");
                request.setSubscribedTopicNames(client.topics);
            }
        }
        ConsumerGroupHeartbeatResponseData response = send(request);
        if (response.errorCode() != Errors.NONE.code()) {
            assertThat(Errors.forCode(response.errorCode())).isIn(Errors.FENCED_MEMBER_EPOCH, Errors.UNKNOWN_MEMBER_ID);
            client.epoch = -1;
            client.owned = new HashMap<>();
            client.target = null;
            return;
        }
        client.epoch = response.memberEpoch();
        if (response.assignment() != null) {
            Map<Uuid, Set<Integer>> target = new HashMap<>();
            response.assignment().topicPartitions().forEach(tp -> target.put(tp.topicId(), Set.copyOf(tp.partitions())));
            client.target = target;
        }
    }

    private static void assertDisjoint(List<SimulatedClient> clients) {
        Set<String> seen = new HashSet<>();
        for (SimulatedClient client : clients) {
            client.owned.forEach((id, set) -> set.forEach(partition ->
                assertThat(seen.add(id + "-" + partition)).as("%s-%s owned twice", id, partition).isTrue()));
        }
    }

    @Test
    void noPartitionIsEverOwnedByTwoClients() throws Exception {
        start();
        for (long seed = 0; seed < 20; seed++) {
            Random random = new Random(seed);
            String group = GROUP;
            List<SimulatedClient> clients = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                clients.add(new SimulatedClient("s" + seed + "-" + i));
            }
            for (int step = 0; step < 300; step++) {
                SimulatedClient client = clients.get(random.nextInt(clients.size()));
                int action = random.nextInt(10);
                if (action < 3) {
                    client.apply();
                } else if (action == 3 && client.inGroup()) {
                    send(beat(client.memberId, -1));
                    client.epoch = -1;
                    client.owned = new HashMap<>();
                    client.target = null;
                } else {
                    heartbeat(client, action == 4 && client.inGroup());
                }
                assertDisjoint(clients);
            }
            for (int round = 0; round < 20; round++) {
                for (SimulatedClient client : clients) {
                    client.apply();
                    heartbeat(client, false);
                    assertDisjoint(clients);
                }
            }
            assertThat(onCoordinator(() -> groups.consumerGroups().get(group).stateName())).isEqualTo("Stable");
            int owned = clients.stream().mapToInt(c -> c.owned.values().stream().mapToInt(Set::size).sum()).sum();
            boolean anyU = clients.stream().anyMatch(c -> c.topics.contains("u"));
            assertThat(owned).isEqualTo(anyU ? 9 : 6);
            for (SimulatedClient client : clients) {
                send(beat(client.memberId, -1));
            }
        }
    }
}
