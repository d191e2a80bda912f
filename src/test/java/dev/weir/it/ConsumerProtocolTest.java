package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.testing.TestBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.SubscriptionPattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The consumer group protocol (KIP-848, {@code group.protocol=consumer}) with the unmodified Java client. */
class ConsumerProtocolTest {
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final int KEYS = 20;
    @TempDir
    static Path dataDir;
    static TestBroker broker;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        broker = new TestBroker(dataDir, Map.of("group.consumer.heartbeat.interval.ms", "500",
            "group.consumer.session.timeout.ms", "15000"));
        admin = Admin.create(broker.clientProperties());
    }

    @AfterAll
    static void stop() {
        admin.close();
        broker.close();
    }

    private static KafkaConsumer<String, String> consumer(String group, String clientId, String assignor) {
        return consumer(group, clientId, assignor, null);
    }

    private static KafkaConsumer<String, String> consumer(String group, String clientId, String assignor,
                                                          String instanceId) {
        Properties properties = broker.clientProperties();
        if (instanceId != null) {
            properties.put("group.instance.id", instanceId);
        }
        properties.put("group.protocol", "consumer");
        properties.put("group.id", group);
        properties.put("client.id", clientId);
        properties.put("auto.offset.reset", "earliest");
        properties.put("enable.auto.commit", "false");
        if (assignor != null) {
            properties.put("group.remote.assignor", assignor);
        }
        return new KafkaConsumer<>(properties, new StringDeserializer(), new StringDeserializer());
    }

    private static void produce(String topic, int from, int count) throws Exception {
        Properties properties = broker.clientProperties();
        properties.put("acks", "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(properties, new StringSerializer(),
            new StringSerializer())) {
            for (int i = from; i < from + count; i++) {
                producer.send(new ProducerRecord<>(topic, "key-" + (i % KEYS), Integer.toString(i)));
            }
            producer.flush();
        }
    }

    /** Polls every consumer in turn, keeping what each receives, until the condition holds. */
    private static void pollUntil(List<KafkaConsumer<String, String>> consumers,
                                  Map<KafkaConsumer<String, String>, List<ConsumerRecord<String, String>>> received,
                                  BooleanSupplier done) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waited %s", PATIENCE).isLessThan(deadline);
            for (KafkaConsumer<String, String> consumer : consumers) {
                consumer.poll(Duration.ofMillis(100))
                    .forEach(record -> received.computeIfAbsent(consumer, c -> new ArrayList<>()).add(record));
            }
        }
    }

    private static int count(Map<KafkaConsumer<String, String>, List<ConsumerRecord<String, String>>> received) {
        return received.values().stream().mapToInt(List::size).sum();
    }

    /** Each record once, offsets rising within each partition, each key's values in production order. */
    private static void assertExactlyOnceInOrder(List<ConsumerRecord<String, String>> records, int expected) {
        Set<String> seen = new HashSet<>();
        Map<TopicPartition, Long> lastOffset = new HashMap<>();
        Map<String, Integer> lastValue = new HashMap<>();
        for (ConsumerRecord<String, String> record : records) {
            TopicPartition partition = new TopicPartition(record.topic(), record.partition());
            assertThat(seen.add(partition + "@" + record.offset())).as("duplicate %s", record).isTrue();
            assertThat(record.offset()).isGreaterThan(lastOffset.getOrDefault(partition, -1L));
            lastOffset.put(partition, record.offset());
            int value = Integer.parseInt(record.value());
            assertThat(value).isGreaterThan(lastValue.getOrDefault(record.key(), -1));
            lastValue.put(record.key(), value);
        }
        assertThat(seen).hasSize(expected);
    }

    private static ConsumerGroupDescription describe(String group) throws Exception {
        return admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
    }

    @Test
    void twoConsumersSplitATopicAndTheSurvivorTakesOver() throws Exception {
        String topic = "kip848-split";
        String group = "kip848-group";
        admin.createTopics(List.of(new NewTopic(topic, 6, (short) 1))).all().get();
        KafkaConsumer<String, String> first = consumer(group, "first", null);
        KafkaConsumer<String, String> second = consumer(group, "second", null);
        try {
            first.subscribe(List.of(topic));
            second.subscribe(List.of(topic));
            List<KafkaConsumer<String, String>> both = List.of(first, second);
            Map<KafkaConsumer<String, String>, List<ConsumerRecord<String, String>>> received = new HashMap<>();
            pollUntil(both, received, () -> first.assignment().size() == 3 && second.assignment().size() == 3);
            Set<TopicPartition> firstPartitions = Set.copyOf(first.assignment());
            Set<TopicPartition> secondPartitions = Set.copyOf(second.assignment());
            assertThat(firstPartitions).doesNotContainAnyElementsOf(secondPartitions);

            int total = 600;
            produce(topic, 0, total);
            pollUntil(both, received, () -> count(received) >= total);
            for (ConsumerRecord<String, String> record : received.getOrDefault(first, List.of())) {
                assertThat(firstPartitions).contains(new TopicPartition(record.topic(), record.partition()));
            }
            for (ConsumerRecord<String, String> record : received.getOrDefault(second, List.of())) {
                assertThat(secondPartitions).contains(new TopicPartition(record.topic(), record.partition()));
            }
            assertThat(received.get(first)).isNotEmpty();
            assertThat(received.get(second)).isNotEmpty();
            List<ConsumerRecord<String, String>> all = new ArrayList<>(received.get(first));
            all.addAll(received.get(second));
            all.sort((a, b) -> Integer.compare(Integer.parseInt(a.value()), Integer.parseInt(b.value())));
            assertExactlyOnceInOrder(received.get(first), received.get(first).size());
            assertExactlyOnceInOrder(received.get(second), received.get(second).size());
            assertExactlyOnceInOrder(all, total);
            first.commitSync();
            second.commitSync();

            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get();
            assertThat(committed).hasSize(6);
            assertThat(committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum()).isEqualTo(total);

            ConsumerGroupDescription stable = describe(group);
            assertThat(stable.groupState()).isEqualTo(GroupState.STABLE);
            assertThat(stable.type()).isEqualTo(GroupType.CONSUMER);
            assertThat(stable.partitionAssignor()).isEqualTo("uniform");
            assertThat(stable.members()).hasSize(2);
            assertThat(stable.members()).extracting(MemberDescription::clientId)
                .containsExactlyInAnyOrder("first", "second");
            for (MemberDescription member : stable.members()) {
                assertThat(member.assignment().topicPartitions()).hasSize(3);
                assertThat(member.targetAssignment()).isPresent();
                assertThat(member.upgraded()).contains(true);
            }
            assertThat(admin.listGroups().all().get()).filteredOn(listing -> listing.groupId().equals(group))
                .singleElement().satisfies(listing -> {
                    assertThat(listing.type()).contains(GroupType.CONSUMER);
                    assertThat(listing.groupState()).contains(GroupState.STABLE);
                });

            first.close();
            Map<KafkaConsumer<String, String>, List<ConsumerRecord<String, String>>> afterwards = new HashMap<>();
            pollUntil(List.of(second), afterwards, () -> second.assignment().size() == 6);
            produce(topic, total, 60);
            pollUntil(List.of(second), afterwards, () -> count(afterwards) >= 60);
            for (int i = 0; i < 5; i++) {
                second.poll(Duration.ofMillis(100)).forEach(record -> afterwards.get(second).add(record));
            }
            List<ConsumerRecord<String, String>> late = afterwards.get(second);
            assertExactlyOnceInOrder(late, 60);
            assertThat(late).allSatisfy(record -> assertThat(Integer.parseInt(record.value())).isGreaterThanOrEqualTo(total));
            second.commitSync();
            assertThat(describe(group).members()).singleElement()
                .satisfies(member -> assertThat(member.assignment().topicPartitions()).hasSize(6));
        } finally {
            first.close();
            second.close();
        }
        ConsumerGroupDescription empty = describe(group);
        assertThat(empty.groupState()).isEqualTo(GroupState.EMPTY);
        assertThat(empty.members()).isEmpty();
        assertThat(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().values().stream()
            .mapToLong(OffsetAndMetadata::offset).sum()).isEqualTo(660);
    }

    @Test
    void aConsumerMayAskForTheRangeAssignor() throws Exception {
        String topic = "kip848-range";
        String group = "kip848-range-group";
        admin.createTopics(List.of(new NewTopic(topic, 4, (short) 1))).all().get();
        try (KafkaConsumer<String, String> consumer = consumer(group, "ranged", "range")) {
            consumer.subscribe(List.of(topic));
            pollUntil(List.of(consumer), new HashMap<>(), () -> consumer.assignment().size() == 4);
            await().atMost(PATIENCE).untilAsserted(() -> {
                ConsumerGroupDescription described = describe(group);
                assertThat(described.partitionAssignor()).isEqualTo("range");
                assertThat(described.groupState()).isEqualTo(GroupState.STABLE);
            });
        }
        List<String> listed = admin.listGroups().all().get().stream().map(GroupListing::groupId).toList();
        assertThat(listed).contains(group);
    }

    @Test
    void aRegexSubscriptionIsResolvedByTheBroker() throws Exception {
        String group = "kip848-regex-group";
        admin.createTopics(List.of(new NewTopic("kip848-re-a", 2, (short) 1), new NewTopic("kip848-re-b", 1, (short) 1),
            new NewTopic("kip848-other", 1, (short) 1))).all().get();
        try (KafkaConsumer<String, String> consumer = consumer(group, "regex", null)) {
            consumer.subscribe(new SubscriptionPattern("kip848-re-.*"));
            pollUntil(List.of(consumer), new HashMap<>(), () -> consumer.assignment().size() == 3);
            assertThat(consumer.assignment()).extracting(TopicPartition::topic)
                .containsOnly("kip848-re-a", "kip848-re-b");
            admin.createTopics(List.of(new NewTopic("kip848-re-c", 1, (short) 1))).all().get();
            pollUntil(List.of(consumer), new HashMap<>(), () -> consumer.assignment().size() == 4);
            assertThat(describe(group).members()).singleElement()
                .satisfies(member -> assertThat(member.assignment().topicPartitions()).hasSize(4));
        }
    }

    @Test
    void aStaticMemberComesBackToItsPartitionsWithoutARebalance() throws Exception {
        String topic = "kip848-static";
        String group = "kip848-static-group";
        admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
        int epoch;
        try (KafkaConsumer<String, String> consumer = consumer(group, "static-1", null, "instance-1")) {
            consumer.subscribe(List.of(topic));
            pollUntil(List.of(consumer), new HashMap<>(), () -> consumer.assignment().size() == 2);
            ConsumerGroupDescription described = describe(group);
            assertThat(described.members()).singleElement()
                .satisfies(member -> assertThat(member.groupInstanceId()).contains("instance-1"));
            epoch = described.groupEpoch().orElseThrow();
        }
        ConsumerGroupDescription away = describe(group);
        assertThat(away.members()).as("a static member that left is kept for its session").singleElement()
            .satisfies(member -> assertThat(member.memberEpoch()).contains(-2));
        try (KafkaConsumer<String, String> consumer = consumer(group, "static-2", null, "instance-1")) {
            consumer.subscribe(List.of(topic));
            pollUntil(List.of(consumer), new HashMap<>(), () -> consumer.assignment().size() == 2);
            ConsumerGroupDescription back = describe(group);
            assertThat(back.groupEpoch()).contains(epoch);
            assertThat(back.members()).singleElement()
                .satisfies(member -> assertThat(member.clientId()).isEqualTo("static-2"));
        }
    }
}
