package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weir.testing.Clients;
import dev.weir.testing.TestBroker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The unmodified Java producer, consumer (assign mode) and Admin client against a real broker. */
class JavaClientTest {
    @TempDir
    static Path dataDir;
    static TestBroker broker;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        // Merging takes WAL objects at once, so a test's mergeNow() merges what it just wrote.
        broker = new TestBroker(dataDir, Map.of("log.merge.min.age.ms", "0"));
        admin = Admin.create(broker.clientProperties());
    }

    @AfterAll
    static void stop() {
        admin.close();
        broker.close();
    }

    private static KafkaProducer<String, String> producer(String compression) {
        return Clients.producer(broker.clientProperties(), Map.of("acks", "all", "enable.idempotence", "true",
            "compression.type", compression, "linger.ms", "5"));
    }

    private static KafkaConsumer<String, String> consumer() {
        return Clients.consumer(broker.clientProperties(), Map.of("auto.offset.reset", "earliest",
            "enable.auto.commit", "false"));
    }

    private static List<ConsumerRecord<String, String>> readAll(TopicPartition partition, long from, int expected) {
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = consumer()) {
            consumer.assign(List.of(partition));
            consumer.seek(partition, from);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (records.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).records(partition).forEach(records::add);
            }
        }
        return records;
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void producedRecordsAreReadBackInOrderAtTheirOffsets(String compression) throws Exception {
        String topic = "roundtrip-" + compression;
        admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
        int count = 3000;
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try (KafkaProducer<String, String> producer = producer(compression)) {
            for (int i = 0; i < count; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, i % 3, "key-" + i, "value-" + i)));
            }
            producer.flush();
        }
        long[] expectedNext = new long[3];
        for (int i = 0; i < count; i++) {
            RecordMetadata metadata = sent.get(i).get();
            assertThat(metadata.partition()).isEqualTo(i % 3);
            assertThat(metadata.offset()).isEqualTo(expectedNext[i % 3]++);
        }
        for (int partition = 0; partition < 3; partition++) {
            List<ConsumerRecord<String, String>> records = readAll(new TopicPartition(topic, partition), 0, count / 3);
            assertThat(records).hasSize(count / 3);
            for (int j = 0; j < records.size(); j++) {
                int i = j * 3 + partition;
                assertThat(records.get(j).offset()).isEqualTo(j);
                assertThat(records.get(j).key()).isEqualTo("key-" + i);
                assertThat(records.get(j).value()).isEqualTo("value-" + i);
            }
        }
    }

    /**
     * Large batches are sent from their WAL file behind a rebuilt header with their real base offset,
     * then merged file to file into a segment and sent from there: the consumer's CRC check
     * (check.crcs, on by default) passes and every record has its offset, read from the start and
     * from the middle of a batch.
     */
    @Test
    void largeBatchesAreSentFromTheirFilesWithTheirOffsetsWrittenIn() throws Exception {
        String topic = "large-batches";
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        String padding = "p".repeat(1000);
        try (KafkaProducer<String, String> producer = Clients.producer(broker.clientProperties(),
            Map.of("acks", "all", "linger.ms", "1000", "batch.size", "131072"))) {
            for (int batch = 0; batch < 3; batch++) {
                for (int i = 0; i < 60; i++) {
                    producer.send(new ProducerRecord<>(topic, 0, "k", (batch * 60 + i) + padding));
                }
                producer.flush();
            }
        }
        TopicPartition partition = new TopicPartition(topic, 0);
        for (int pass = 0; pass < 2; pass++) {
            for (long from : new long[] {0, 75}) {
                List<ConsumerRecord<String, String>> records = readAll(partition, from, (int) (180 - from));
                assertThat(records).hasSize((int) (180 - from));
                for (ConsumerRecord<String, String> record : records) {
                    assertThat(record.value()).isEqualTo(record.offset() + padding);
                }
            }
            // The second pass reads the batches merged into a segment, copied there file to file.
            broker.mergeNow();
        }
    }

    @Test
    void consumerWaitsForDataWithLongPolling() throws Exception {
        String topic = "long-poll";
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        TopicPartition partition = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = consumer();
             KafkaProducer<String, String> producer = producer("none")) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            assertThat(consumer.poll(Duration.ofMillis(300)).isEmpty()).isTrue();
            producer.send(new ProducerRecord<>(topic, "k", "late")).get();
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (got.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(got::add);
            }
            assertThat(got).extracting(ConsumerRecord::value).containsExactly("late");
        }
    }

    @Test
    void adminDescribesTopicsOffsetsConfigsAndCluster() throws Exception {
        String topic = "admin-topic";
        admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1).configs(Map.of("retention.ms", "3600000"))))
            .all().get();
        TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
        assertThat(description.partitions()).hasSize(2);
        assertThat(description.partitions().get(0).leader().id()).isEqualTo(0);
        assertThat(description.partitions().get(0).isr()).hasSize(1);

        assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get())
            .hasCauseInstanceOf(TopicExistsException.class);
        assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("rf3", 1, (short) 3))).all().get())
            .hasCauseInstanceOf(InvalidReplicationFactorException.class);

        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        ConfigEntry retention = admin.describeConfigs(List.of(resource)).all().get().get(resource).get("retention.ms");
        assertThat(retention.value()).isEqualTo("3600000");
        assertThat(retention.source()).isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
        admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(
            new ConfigEntry("retention.ms", "7200000"), AlterConfigOp.OpType.SET)))).all().get();
        ConfigEntry changed = admin.describeConfigs(List.of(resource)).all().get().get(resource).get("retention.ms");
        assertThat(changed.value()).isEqualTo("7200000");

        admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(4))).all().get();
        assertThat(admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()).hasSize(4);

        Collection<org.apache.kafka.common.Node> nodes = admin.describeCluster().nodes().get();
        assertThat(nodes).hasSize(1);
        assertThat(nodes.iterator().next().port()).isEqualTo(broker.port());

        admin.deleteTopics(List.of(topic)).all().get();
        assertThat(admin.listTopics().names().get()).doesNotContain(topic);
    }

    @Test
    void listOffsetsAndDeleteRecordsMoveTheLogStart() throws Exception {
        String topic = "offsets";
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        TopicPartition partition = new TopicPartition(topic, 0);
        long base = System.currentTimeMillis() - 100_000;
        try (KafkaProducer<String, String> producer = producer("lz4")) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, 0, base + i * 1000L, "k" + i, "v" + i)).get();
            }
        }
        assertThat(offset(partition, OffsetSpec.earliest())).isEqualTo(0);
        assertThat(offset(partition, OffsetSpec.latest())).isEqualTo(10);
        assertThat(offset(partition, OffsetSpec.forTimestamp(base + 4500))).isEqualTo(5);
        assertThat(offset(partition, OffsetSpec.maxTimestamp())).isEqualTo(9);

        admin.deleteRecords(Map.of(partition, RecordsToDelete.beforeOffset(4))).all().get();
        assertThat(offset(partition, OffsetSpec.earliest())).isEqualTo(4);
        try (KafkaConsumer<String, String> consumer = consumer()) {
            Properties strict = broker.clientProperties();
            strict.put("auto.offset.reset", "none");
            try (KafkaConsumer<String, String> noReset = new KafkaConsumer<>(strict, new StringDeserializer(),
                new StringDeserializer())) {
                noReset.assign(List.of(partition));
                noReset.seek(partition, 1);
                assertThatThrownBy(() -> {
                    for (int i = 0; i < 50; i++) {
                        noReset.poll(Duration.ofMillis(100));
                    }
                }).isInstanceOf(OffsetOutOfRangeException.class);
            }
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (got.size() < 6 && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(got::add);
            }
            assertThat(got).extracting(ConsumerRecord::offset).startsWith(4L).hasSize(6);
        }
    }

    private static long offset(TopicPartition partition, OffsetSpec spec) throws ExecutionException, InterruptedException {
        return admin.listOffsets(Map.of(partition, spec)).partitionResult(partition).get().offset();
    }

    @Test
    void autoCreatedTopicIsUsableAtOnce() throws Exception {
        try (KafkaProducer<String, String> producer = producer("none")) {
            RecordMetadata metadata = producer.send(new ProducerRecord<>("auto-created", "k",
                new String(new byte[100], StandardCharsets.UTF_8))).get();
            assertThat(metadata.offset()).isZero();
        }
        assertThat(admin.listTopics().names().get()).contains("auto-created");
        assertThat(Set.copyOf(admin.describeTopics(List.of("auto-created")).allTopicNames().get().keySet()))
            .containsExactly("auto-created");
    }
}
