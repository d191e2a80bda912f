package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.testing.Clients;
import dev.weir.testing.TestBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Committed offsets across broker restarts; members rejoin; static members and max.poll.interval.ms. */
class GroupDurabilityTest {
    @TempDir
    Path dataDir;

    private static KafkaConsumer<String, String> consumer(TestBroker broker, String group, Map<String, String> extra) {
        Map<String, String> settings = new java.util.HashMap<>(Map.of("group.id", group, "enable.auto.commit", "false",
            "auto.offset.reset", "earliest", "heartbeat.interval.ms", "300", "session.timeout.ms", "6000"));
        settings.putAll(extra);
        return Clients.consumer(broker.clientProperties(), settings);
    }

    @Test
    void committedOffsetsSurviveABrokerRestartAndTheMemberRejoins() throws Exception {
        TopicPartition partition = new TopicPartition("durable", 0);
        try (TestBroker broker = new TestBroker(dataDir);
             Admin admin = Admin.create(broker.clientProperties())) {
            admin.createTopics(List.of(new NewTopic("durable", 1, (short) 1))).all().get();
            try (KafkaConsumer<String, String> consumer = consumer(broker, "durable-group", Map.of())) {
                consumer.assign(List.of(partition));
                consumer.commitSync(Map.of(partition, new OffsetAndMetadata(42, "meta")));
            }
        }
        try (TestBroker broker = new TestBroker(dataDir);
             Admin admin = Admin.create(broker.clientProperties())) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets("durable-group")
                .partitionsToOffsetAndMetadata().get();
            assertThat(offsets.get(partition).offset()).isEqualTo(42);
            assertThat(offsets.get(partition).metadata()).isEqualTo("meta");
            assertThat(admin.listGroups().all().get()).anyMatch(g -> g.groupId().equals("durable-group"));
        }
    }

    @Test
    void aMemberThatStopsPollingIsRemovedAfterMaxPollInterval() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir);
             Admin admin = Admin.create(broker.clientProperties())) {
            admin.createTopics(List.of(new NewTopic("slow", 4, (short) 1))).all().get();
            try (KafkaConsumer<String, String> slow = consumer(broker, "poll-group", Map.of("max.poll.interval.ms", "2000"));
                 KafkaConsumer<String, String> fast = consumer(broker, "poll-group", Map.of())) {
                slow.subscribe(List.of("slow"));
                fast.subscribe(List.of("slow"));
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    slow.poll(Duration.ofMillis(50));
                    fast.poll(Duration.ofMillis(50));
                    return slow.assignment().size() == 2 && fast.assignment().size() == 2;
                });
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    fast.poll(Duration.ofMillis(100));
                    return fast.assignment().size() == 4;
                });
            }
        }
    }

    @Test
    void aRestartedStaticMemberKeepsItsPartitionsWithoutARebalance() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir);
             Admin admin = Admin.create(broker.clientProperties())) {
            admin.createTopics(List.of(new NewTopic("static", 4, (short) 1))).all().get();
            Set<TopicPartition> revoked = ConcurrentHashMap.newKeySet();
            Map<String, String> staticOne = Map.of("group.instance.id", "instance-1", "session.timeout.ms", "30000");
            try (KafkaConsumer<String, String> other = consumer(broker, "static-group",
                Map.of("group.instance.id", "instance-2", "session.timeout.ms", "30000"))) {
                other.subscribe(List.of("static"), new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                        revoked.addAll(partitions);
                    }

                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    }
                });
                Set<TopicPartition> before;
                try (KafkaConsumer<String, String> first = consumer(broker, "static-group", staticOne)) {
                    first.subscribe(List.of("static"));
                    await().atMost(Duration.ofSeconds(30)).until(() -> {
                        first.poll(Duration.ofMillis(50));
                        other.poll(Duration.ofMillis(50));
                        return first.assignment().size() == 2 && other.assignment().size() == 2;
                    });
                    before = Set.copyOf(first.assignment());
                    revoked.clear();
                }
                try (KafkaConsumer<String, String> restarted = consumer(broker, "static-group", staticOne)) {
                    restarted.subscribe(List.of("static"));
                    await().atMost(Duration.ofSeconds(30)).until(() -> {
                        restarted.poll(Duration.ofMillis(50));
                        other.poll(Duration.ofMillis(50));
                        return restarted.assignment().size() == 2;
                    });
                    assertThat(restarted.assignment()).isEqualTo(before);
                    other.poll(Duration.ofMillis(500));
                    assertThat(revoked).as("the other member kept its partitions").isEmpty();
                }
            }
        }
    }
}
