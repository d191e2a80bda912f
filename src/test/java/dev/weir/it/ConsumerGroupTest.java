package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.testing.Clients;
import dev.weir.testing.TestBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Consumer groups of the classic protocol with the unmodified Java client. */
class ConsumerGroupTest {
    private static final String RANGE = "org.apache.kafka.clients.consumer.RangeAssignor";
    @TempDir
    static Path dataDir;
    static TestBroker broker;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        broker = new TestBroker(dataDir);
        admin = Admin.create(broker.clientProperties());
    }

    @AfterAll
    static void stop() {
        admin.close();
        broker.close();
    }

    static KafkaConsumer<String, String> consumer(String group, String assignor) {
        return Clients.consumer(broker.clientProperties(), Map.of("group.id", group, "auto.offset.reset", "earliest",
            "enable.auto.commit", "false", "partition.assignment.strategy", assignor, "session.timeout.ms", "10000",
            "heartbeat.interval.ms", "500"));
    }

    static void produce(String topic, int count) throws Exception {
        produce(topic, count, "value-");
    }

    static void produce(String topic, int count, String prefix) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(broker.clientProperties(), Map.of("acks", "all"))) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, "key-" + (i % 17), prefix + i));
            }
            producer.flush();
        }
    }

    @Test
    void twoConsumersSplitPartitionsAndTheSurvivorTakesOverAfterOneLeaves() throws Exception {
        String topic = "split";
        admin.createTopics(List.of(new NewTopic(topic, 6, (short) 1))).all().get();
        Map<String, List<ConsumerRecord<String, String>>> byKey = new ConcurrentHashMap<>();
        KafkaConsumer<String, String> second = consumer("split-group", RANGE);
        try (KafkaConsumer<String, String> first = consumer("split-group", RANGE)) {
            first.subscribe(List.of(topic));
            second.subscribe(List.of(topic));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                first.poll(Duration.ofMillis(50));
                second.poll(Duration.ofMillis(50));
                return first.assignment().size() == 3 && second.assignment().size() == 3;
            });
            produce(topic, 600);
            int seen = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (seen < 600 && System.nanoTime() < deadline) {
                for (KafkaConsumer<String, String> consumer : List.of(first, second)) {
                    for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
                        byKey.computeIfAbsent(record.key(), k -> new ArrayList<>()).add(record);
                        seen++;
                    }
                }
            }
            assertThat(seen).isEqualTo(600);
            assertThat(first.assignment()).hasSize(3);
            assertThat(second.assignment()).hasSize(3);
            first.commitSync();
            second.commitSync();
            ConsumerGroupDescription description = admin.describeConsumerGroups(List.of("split-group")).all().get()
                .get("split-group");
            assertThat(description.members()).hasSize(2);
            second.close();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                first.poll(Duration.ofMillis(100));
                return first.assignment().size() == 6;
            });
        } finally {
            second.close();
        }
        for (List<ConsumerRecord<String, String>> records : byKey.values()) {
            for (int i = 1; i < records.size(); i++) {
                assertThat(records.get(i).offset()).isGreaterThan(records.get(i - 1).offset());
            }
        }
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("split-group")
            .partitionsToOffsetAndMetadata().get();
        assertThat(committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum()).isEqualTo(600);
    }

    @Test
    void aCooperativeRebalanceRevokesOnlyMovedPartitions() throws Exception {
        String topic = "cooperative";
        admin.createTopics(List.of(new NewTopic(topic, 6, (short) 1))).all().get();
        Set<TopicPartition> revokedFromFirst = ConcurrentHashMap.newKeySet();
        String assignor = "org.apache.kafka.clients.consumer.CooperativeStickyAssignor";
        try (KafkaConsumer<String, String> first = consumer("coop-group", assignor);
             KafkaConsumer<String, String> second = consumer("coop-group", assignor)) {
            first.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    revokedFromFirst.addAll(partitions);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                }
            });
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                first.poll(Duration.ofMillis(100));
                return first.assignment().size() == 6;
            });
            Set<TopicPartition> before = new HashSet<>(first.assignment());
            second.subscribe(List.of(topic));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                first.poll(Duration.ofMillis(100));
                second.poll(Duration.ofMillis(100));
                return first.assignment().size() == 3 && second.assignment().size() == 3;
            });
            assertThat(revokedFromFirst).hasSize(3).isSubsetOf(before);
            assertThat(revokedFromFirst).containsExactlyInAnyOrderElementsOf(second.assignment());
        }
    }

    @Test
    void committedOffsetsSurviveARestartAndConsumptionResumes() throws Exception {
        String topic = "resume";
        admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
        produce(topic, 100);
        Map<String, Integer> counts = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = consumer("resume-group", RANGE)) {
            consumer.subscribe(List.of(topic));
            int seen = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (seen < 100 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
                    counts.merge(record.value(), 1, Integer::sum);
                    seen++;
                }
            }
            consumer.commitSync();
        }
        assertThat(counts).hasSize(100);
        produce(topic, 10, "later-");
        try (KafkaConsumer<String, String> consumer = consumer("resume-group", "org.apache.kafka.clients.consumer.RoundRobinAssignor")) {
            consumer.subscribe(List.of(topic));
            List<String> values = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (values.size() < 10 && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(100)).forEach(record -> values.add(record.value()));
            }
            assertThat(values).hasSize(10).allMatch(value -> value.startsWith("later-"));
        }
    }
}
