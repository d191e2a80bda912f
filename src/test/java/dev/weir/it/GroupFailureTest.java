package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.testing.BrokerProcess;
import dev.weir.testing.MutableClock;
import dev.weir.testing.Clients;
import dev.weir.testing.TestBroker;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Groups when things die: a killed member, a killed broker, and offsets that expire. */
class GroupFailureTest {
    @TempDir
    Path dataDir;

    private static KafkaConsumer<String, String> consumer(Properties base, String group) {
        return Clients.consumer(base, Map.of("group.id", group, "enable.auto.commit", "false",
            "session.timeout.ms", "6000", "heartbeat.interval.ms", "500", "auto.offset.reset", "earliest"));
    }

    @Test
    void aKilledMembersPartitionsMoveToTheSurvivorAfterItsSessionTimeout() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir);
             Admin admin = Admin.create(broker.clientProperties())) {
            admin.createTopics(List.of(new NewTopic("killed", 6, (short) 1))).all().get();
            Process member = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.weir.it.clients.GroupMemberMain",
                broker.bootstrap(), "killed", "kill-group").redirectErrorStream(true).start();
            AtomicInteger memberAssigned = new AtomicInteger(-1);
            Thread reader = new Thread(() -> {
                try (BufferedReader lines = new BufferedReader(new InputStreamReader(member.getInputStream(),
                    StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = lines.readLine()) != null) {
                        if (line.startsWith("assigned ")) {
                            memberAssigned.set(Integer.parseInt(line.substring(9).trim()));
                        }
                    }
                } catch (Exception ended) {
                    // The process was killed.
                }
            });
            reader.setDaemon(true);
            reader.start();
            try (KafkaConsumer<String, String> survivor = consumer(broker.clientProperties(), "kill-group")) {
                survivor.subscribe(List.of("killed"));
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    survivor.poll(Duration.ofMillis(100));
                    return survivor.assignment().size() == 3 && memberAssigned.get() == 3;
                });
                member.destroyForcibly().waitFor();
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    survivor.poll(Duration.ofMillis(100));
                    return survivor.assignment().size() == 6;
                });
            } finally {
                member.destroyForcibly();
            }
        }
    }

    @Test
    void committedOffsetsSurviveSigkillOfTheBroker() throws Exception {
        TopicPartition partition = new TopicPartition("crash-offsets", 0);
        try (BrokerProcess broker = new BrokerProcess(dataDir.resolve("data"), dataDir.resolve("broker.log"))) {
            broker.start(Duration.ofSeconds(60));
            try (Admin admin = Admin.create(broker.clientProperties())) {
                admin.createTopics(List.of(new NewTopic("crash-offsets", 1, (short) 1))).all().get();
            }
            try (KafkaConsumer<String, String> consumer = consumer(broker.clientProperties(), "crash-group")) {
                consumer.assign(List.of(partition));
                consumer.commitSync(Map.of(partition, new OffsetAndMetadata(1234)));
            }
            assertThat(broker.kill()).isEqualTo(BrokerProcess.SIGKILL_EXIT);
            broker.start(Duration.ofSeconds(60));
            try (Admin admin = Admin.create(broker.clientProperties())) {
                assertThat(admin.listConsumerGroupOffsets("crash-group").partitionsToOffsetAndMetadata().get()
                    .get(partition).offset()).isEqualTo(1234);
            }
        }
    }

    @Test
    void offsetsOfAnEmptyGroupExpireAfterTheRetention() throws Exception {
        MutableClock clock = new MutableClock(System.currentTimeMillis());
        TopicPartition partition = new TopicPartition("expiring", 0);
        try (TestBroker broker = new TestBroker(dataDir, Map.of("offsets.retention.minutes", "1"), clock);
             Admin admin = Admin.create(broker.clientProperties())) {
            admin.createTopics(List.of(new NewTopic("expiring", 1, (short) 1))).all().get();
            try (KafkaConsumer<String, String> consumer = consumer(broker.clientProperties(), "expiring-group")) {
                consumer.assign(List.of(partition));
                consumer.commitSync(Map.of(partition, new OffsetAndMetadata(7)));
            }
            assertThat(admin.listConsumerGroupOffsets("expiring-group").partitionsToOffsetAndMetadata().get())
                .containsKey(partition);
            clock.advance(Duration.ofMinutes(2));
            await().atMost(Duration.ofSeconds(30)).until(() -> admin.listConsumerGroupOffsets("expiring-group")
                .partitionsToOffsetAndMetadata().get().isEmpty());
        }
    }

    @Test
    void aSubscribedMemberRejoinsAfterTheBrokerIsKilledAndResumesFromItsCommit() throws Exception {
        try (BrokerProcess broker = new BrokerProcess(dataDir.resolve("data"), dataDir.resolve("broker.log"))) {
            broker.start(Duration.ofSeconds(60));
            try (Admin admin = Admin.create(broker.clientProperties())) {
                admin.createTopics(List.of(new NewTopic("rejoin", 2, (short) 1))).all().get();
            }
            Properties producerProperties = broker.clientProperties();
            producerProperties.put("acks", "all");
            try (KafkaConsumer<String, String> member = consumer(broker.clientProperties(), "rejoin-group")) {
                member.subscribe(List.of("rejoin"));
                produce(producerProperties, "before-", 50);
                List<String> before = new java.util.ArrayList<>();
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    member.poll(Duration.ofMillis(100)).forEach(record -> before.add(record.value()));
                    return before.size() >= 50;
                });
                member.commitSync();
                assertThat(broker.kill()).isEqualTo(BrokerProcess.SIGKILL_EXIT);
                broker.restartOnSamePort(Duration.ofSeconds(60));
                produce(producerProperties, "after-", 20);
                List<String> after = new java.util.ArrayList<>();
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    member.poll(Duration.ofMillis(100)).forEach(record -> after.add(record.value()));
                    return after.size() >= 20;
                });
                member.poll(Duration.ofMillis(500)).forEach(record -> after.add(record.value()));
                assertThat(before).hasSize(50);
                assertThat(after).hasSize(20).allMatch(value -> value.startsWith("after-"));
            }
        }
    }

    private static void produce(Properties properties, String prefix, int count) throws Exception {
        try (org.apache.kafka.clients.producer.KafkaProducer<String, String> producer =
                 new org.apache.kafka.clients.producer.KafkaProducer<>(properties,
                     new org.apache.kafka.common.serialization.StringSerializer(),
                     new org.apache.kafka.common.serialization.StringSerializer())) {
            for (int i = 0; i < count; i++) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("rejoin", "k" + i, prefix + i)).get();
            }
        }
    }
}
