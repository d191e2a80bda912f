package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.testing.Clients;
import dev.weir.testing.DataDirectory;
import dev.weir.testing.MutableClock;
import dev.weir.testing.TestBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Merging leaves the batches of topics that age out by the broker's retention.ms where their WAL file
 * holds them (their stored headers carry their final offsets), and copies those of topics that delete
 * by size or compact into segments. Readers see the same records either way, before and after a
 * restart, from any offset. WAL files whose other batches were deleted have what they still hold
 * copied out, so that they can go.
 */
class InPlaceMergeTest {
    private static final int RECORDS_PER_PARTITION = 1500;
    private static final Map<String, String> SETTINGS = Map.of("log.merge.interval.ms", "3600000",
        "log.merge.min.age.ms", "0", "log.retention.check.interval.ms", "3600000", "wal.file.bytes", "1048576");

    @TempDir
    Path dataDir;

    private static String value(String topic, int partition, long offset) {
        return topic + "-p" + partition + "-" + offset + "-" + "x".repeat(1000);
    }

    /** Produces in batches of up to 64 KiB, the records of each partition numbered by the offset they get. */
    private static void produce(TestBroker broker, String... topics) throws Exception {
        produce(broker, RECORDS_PER_PARTITION, topics);
    }

    /** Produces to every topic side by side, the first topic only its first {@code firstTopicRecords} records. */
    private static void produce(TestBroker broker, int firstTopicRecords, String... topics) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(broker.clientProperties(),
            Map.of("acks", "all", "linger.ms", "20", "batch.size", "65536"))) {
            for (int offset = 0; offset < RECORDS_PER_PARTITION; offset++) {
                for (String topic : offset < firstTopicRecords ? List.of(topics) : List.of(topics).subList(1, topics.length)) {
                    for (int partition = 0; partition < 2; partition++) {
                        producer.send(new ProducerRecord<>(topic, partition, "k" + offset % 10,
                            value(topic, partition, offset)));
                    }
                }
            }
            producer.flush();
        }
    }

    private static List<TopicPartition> partitions(String topic) {
        return List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
    }

    /** Reads both partitions to the end and checks every record's offset and value. */
    private static void assertReadsWhole(TestBroker broker, String topic) {
        List<ConsumerRecord<String, String>> records = Clients.readToEnd(broker.clientProperties(), partitions(topic));
        long[] next = new long[2];
        for (ConsumerRecord<String, String> record : records) {
            assertThat(record.offset()).isEqualTo(next[record.partition()]);
            assertThat(record.value()).isEqualTo(value(topic, record.partition(), next[record.partition()]++));
        }
        assertThat(next).containsExactly(RECORDS_PER_PARTITION, RECORDS_PER_PARTITION);
    }

    /** A consumer that starts inside a batch, fetching little at a time, gets every record from there on. */
    private static void assertReadsFrom(TestBroker broker, String topic, long offset) {
        TopicPartition partition = new TopicPartition(topic, 1);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.clientProperties(),
            Map.of("max.partition.fetch.bytes", "20000", "enable.auto.commit", "false"))) {
            consumer.assign(List.of(partition));
            consumer.seek(partition, offset);
            long next = offset;
            long deadline = System.currentTimeMillis() + 30_000;
            while (next < RECORDS_PER_PARTITION && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    assertThat(record.offset()).isEqualTo(next);
                    assertThat(record.value()).isEqualTo(value(topic, 1, next++));
                }
            }
            assertThat(next).isEqualTo(RECORDS_PER_PARTITION);
        }
    }

    @Test
    void batchesOfTopicsOnTheBrokersRetentionStayInTheirWalFilesAndAgeOutWithThem() throws Exception {
        MutableClock clock = new MutableClock(System.currentTimeMillis());
        try (TestBroker broker = new TestBroker(dataDir, SETTINGS, clock);
             Admin admin = Admin.create(broker.clientProperties())) {
            // Three quarters of every WAL file belong to topics on the broker's retention.
            admin.createTopics(List.of(new NewTopic("kept", 2, (short) 1), new NewTopic("also", 2, (short) 1),
                new NewTopic("also-too", 2, (short) 1),
                new NewTopic("size", 2, (short) 1).configs(Map.of("retention.bytes", "1000000000")))).all().get();
            produce(broker, "kept", "also", "also-too", "size");
            Map<String, Long> before = DataDirectory.indexRowsByKind(dataDir, "kept");
            broker.mergeNow();

            Map<String, Long> kept = DataDirectory.indexRowsByKind(dataDir, "kept");
            assertThat(kept).as("rows of %s before merging", before).containsOnlyKeys("kept in place");
            // Whether two batches of a partition lie side by side depends on how requests met in the WAL
            // writer; LogTest checks that such runs share a row. Here: merging never splits a row.
            assertThat(kept.get("kept in place")).isLessThanOrEqualTo(before.get("wal"));
            assertThat(DataDirectory.indexRowsByKind(dataDir, "size")).as("retention.bytes: copied")
                .containsOnlyKeys("segment");
            assertReadsWhole(broker, "kept");
            assertReadsWhole(broker, "size");
            assertReadsFrom(broker, "kept", 777);
        }
        try (TestBroker broker = new TestBroker(dataDir, SETTINGS, clock)) {
            assertReadsWhole(broker, "kept");
            assertReadsFrom(broker, "kept", 1001);
            List<String> walFiles = DataDirectory.committedWalFiles(dataDir);
            assertThat(walFiles).as("the records fill several WAL files").hasSizeGreaterThan(4);

            // A week later (the default retention.ms) the batches age out, and their WAL files go with them.
            clock.advance(Duration.ofDays(8));
            broker.enforceRetentionNow();
            clock.advance(Duration.ofMinutes(2));
            broker.enforceRetentionNow();
            assertThat(DataDirectory.indexRowsByKind(dataDir, "kept")).isEmpty();
            assertThat(DataDirectory.committedWalFiles(dataDir)).as("all but the file being written are deleted")
                .hasSizeLessThanOrEqualTo(1);
            assertThat(DataDirectory.objectFiles(dataDir).stream().filter(walFiles::contains)).hasSizeLessThanOrEqualTo(1);
        }
    }

    @Test
    void batchesInWalFilesMostlyOfCopiedTopicsAreCopiedToo() throws Exception {
        MutableClock clock = new MutableClock(System.currentTimeMillis());
        try (TestBroker broker = new TestBroker(dataDir, SETTINGS, clock);
             Admin admin = Admin.create(broker.clientProperties())) {
            admin.createTopics(List.of(new NewTopic("kept", 2, (short) 1),
                new NewTopic("size", 2, (short) 1).configs(Map.of("retention.bytes", "1000000000")),
                new NewTopic("timed", 2, (short) 1).configs(Map.of("retention.ms", "86400000")),
                new NewTopic("compacted", 2, (short) 1).configs(Map.of("cleanup.policy", "compact")))).all().get();
            // "kept" takes a quarter of the first files and nothing of the later ones.
            produce(broker, RECORDS_PER_PARTITION / 5, "kept", "size", "timed", "compacted");
            broker.mergeNow();
            // Keeping a quarter of a file would hold the whole file on disk for the other three quarters' copies.
            assertThat(DataDirectory.indexRowsByKind(dataDir, "kept")).containsOnlyKeys("segment");
            clock.advance(Duration.ofMinutes(2));
            broker.mergeNow();
            assertThat(DataDirectory.committedWalFiles(dataDir)).hasSizeLessThanOrEqualTo(1);
            assertReadsWhole(broker, "size");
        }
    }

    @Test
    void deletingTopicsCopiesWhatTheirWalFilesStillHoldAndFreesThem() throws Exception {
        MutableClock clock = new MutableClock(System.currentTimeMillis());
        try (TestBroker broker = new TestBroker(dataDir, SETTINGS, clock);
             Admin admin = Admin.create(broker.clientProperties())) {
            admin.createTopics(List.of(new NewTopic("kept", 2, (short) 1), new NewTopic("gone", 2, (short) 1),
                new NewTopic("gone-too", 2, (short) 1), new NewTopic("gone-three", 2, (short) 1))).all().get();
            produce(broker, "kept", "gone", "gone-too", "gone-three");
            broker.mergeNow();
            assertThat(DataDirectory.indexRowsByKind(dataDir, "kept")).containsOnlyKeys("kept in place");
            List<String> walFiles = DataDirectory.committedWalFiles(dataDir);
            assertThat(walFiles).hasSizeGreaterThan(4);

            // Three quarters of the WAL files are gone: what they still hold is copied out of them.
            admin.deleteTopics(List.of("gone", "gone-too", "gone-three")).all().get();
            broker.mergeNow();
            assertThat(DataDirectory.indexRowsByKind(dataDir, "kept")).containsKey("segment");
            clock.advance(Duration.ofMinutes(2));
            broker.mergeNow();
            java.util.TreeMap<String, long[]> left = new java.util.TreeMap<>(DataDirectory.walFileUse(dataDir));
            assertThat(left.size()).as("WAL files left of %s", walFiles).isLessThan(walFiles.size() / 2);
            // Every file left is at least a third referenced, but the one being written (kept by garbage collection).
            left.headMap(left.lastKey()).forEach((file, use) -> assertThat(use[1] * 3)
                .as("bytes of %s referenced", file).isGreaterThanOrEqualTo(use[0]));
            assertReadsWhole(broker, "kept");
        }
    }

    @Test
    void batchesKeptInPlaceAreCompactedOnceTheTopicCompacts() throws Exception {
        // The broker's clock runs ahead of the producer's timestamps, so every record is old enough to clean.
        MutableClock clock = new MutableClock(System.currentTimeMillis() + 600_000);
        try (TestBroker broker = new TestBroker(dataDir, SETTINGS, clock);
             Admin admin = Admin.create(broker.clientProperties())) {
            admin.createTopics(List.of(new NewTopic("switched", 2, (short) 1))).all().get();
            produce(broker, "switched");
            broker.mergeNow();
            assertThat(DataDirectory.indexRowsByKind(dataDir, "switched")).containsOnlyKeys("kept in place");

            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "switched");
            Collection<AlterConfigOp> compact = List.of(
                new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("min.cleanable.dirty.ratio", "0.01"), AlterConfigOp.OpType.SET));
            admin.incrementalAlterConfigs(Map.of(topic, compact)).all().get();
            broker.mergeNow();

            // Ten keys per partition: the last record of each survives, at the offset it was written at.
            List<ConsumerRecord<String, String>> records = Clients.readToEnd(broker.clientProperties(),
                partitions("switched"));
            Map<String, Long> latest = new LinkedHashMap<>();
            List<Long> offsets = new ArrayList<>();
            for (ConsumerRecord<String, String> record : records) {
                assertThat(record.value()).isEqualTo(value("switched", record.partition(), record.offset()));
                latest.put(record.partition() + "/" + record.key(), record.offset());
                offsets.add(record.offset());
            }
            assertThat(records).hasSize(20);
            assertThat(offsets).allMatch(offset -> offset >= RECORDS_PER_PARTITION - 10);
            assertThat(latest).hasSize(20);
            assertThat(DataDirectory.indexRowsByKind(dataDir, "switched")).containsOnlyKeys("segment");
        }
    }
}
