package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.testing.Clients;
import dev.weir.testing.MutableClock;
import dev.weir.testing.TestBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * cleanup.policy=compact keeps the latest record per key at its original offset, keeps tombstones for
 * delete.retention.ms after the cleaning that first sees them, and honours min.compaction.lag.ms,
 * min.cleanable.dirty.ratio and max.compaction.lag.ms. Time moves by a hand-driven clock.
 */
class CompactionTest {
    private static final int KEYS = 100;
    private static final Map<String, String> SETTINGS = Map.of("log.merge.interval.ms", "3600000", "log.merge.min.age.ms", "0",
        "log.retention.check.interval.ms", "3600000", "log.merge.row.bytes", "8192");

    @TempDir
    Path dataDir;

    private static void produce(KafkaProducer<String, String> producer, String topic, int round, int keys) throws Exception {
        for (int i = 0; i < keys; i++) {
            producer.send(new ProducerRecord<>(topic, 0, "k" + i, "round" + round + "-" + "v".repeat(300)));
        }
        producer.flush();
    }

    private static List<ConsumerRecord<String, String>> readAll(TestBroker broker, String topic) {
        return Clients.readToEnd(broker.clientProperties(), List.of(new TopicPartition(topic, 0)));
    }

    /** The latest value of each key as a reader from the start sees it, checking offsets only grow. */
    private static Map<String, String> latest(List<ConsumerRecord<String, String>> records) {
        Map<String, String> latest = new LinkedHashMap<>();
        long previous = -1;
        for (ConsumerRecord<String, String> record : records) {
            assertThat(record.offset()).isGreaterThan(previous);
            previous = record.offset();
            latest.put(record.key(), record.value());
        }
        return latest;
    }

    @Test
    void theLatestRecordPerKeySurvivesAtItsOffsetAndTombstonesLeaveAfterTheirRetention() throws Exception {
        // The broker's clock runs ahead of the producer's timestamps, so every record is old enough to clean.
        MutableClock clock = new MutableClock(System.currentTimeMillis() + 600_000);
        try (TestBroker broker = new TestBroker(dataDir, SETTINGS, clock);
             Admin admin = Admin.create(broker.clientProperties());
             KafkaProducer<String, String> producer = Clients.producer(broker.clientProperties(),
                 Map.of("linger.ms", "5", "batch.size", "4096"))) {
            admin.createTopics(List.of(new NewTopic("changelog", 1, (short) 1).configs(Map.of(
                "cleanup.policy", "compact", "min.cleanable.dirty.ratio", "0.001", "delete.retention.ms", "60000",
                "segment.bytes", "1048576")))).all().get();
            // The latest record of each key, with the offset the broker gave it.
            Map<Long, String> latestByOffset = new java.util.TreeMap<>();
            Map<String, Long> offsetOfKey = new java.util.HashMap<>();
            for (int round = 0; round <= 5; round++) {
                List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>> sent = new ArrayList<>();
                int keys = round < 5 ? KEYS : 10;
                for (int i = 0; i < keys; i++) {
                    // The last round writes tombstones for the first ten keys.
                    String value = round < 5 ? "round" + round + "-" + "v".repeat(300) : null;
                    sent.add(producer.send(new ProducerRecord<>("changelog", 0, "k" + i, value)));
                }
                for (int i = 0; i < keys; i++) {
                    long offset = sent.get(i).get().offset();
                    Long previous = offsetOfKey.put("k" + i, offset);
                    if (previous != null) {
                        latestByOffset.remove(previous);
                    }
                    latestByOffset.put(offset, "k" + i + "=" + (round < 5 ? "round" + round : "null"));
                }
                broker.mergeNow();
            }

            List<ConsumerRecord<String, String>> compacted = readAll(broker, "changelog");
            Map<Long, String> read = new java.util.TreeMap<>();
            for (ConsumerRecord<String, String> record : compacted) {
                read.put(record.offset(), record.key() + "=" + (record.value() == null ? "null"
                    : record.value().substring(0, record.value().indexOf('-'))));
            }
            assertThat(read).isEqualTo(latestByOffset);
            assertThat(compacted.size()).as("one record per key").isEqualTo(KEYS);
            // Offsets are never reassigned: each survivor sits where it was written, tombstones included.
            assertThat(read).isEqualTo(latestByOffset);
            TopicPartition partition = new TopicPartition("changelog", 0);
            assertThat(admin.listOffsets(Map.of(partition, OffsetSpec.latest())).all().get().get(partition).offset())
                .isEqualTo(5L * KEYS + 10);

            // After delete.retention.ms, the next cleaning drops the tombstones.
            clock.advance(Duration.ofMinutes(2));
            producer.send(new ProducerRecord<>("changelog", 0, "k50", "newest")).get();
            broker.mergeNow();
            Map<String, String> afterHorizon = latest(readAll(broker, "changelog"));
            assertThat(afterHorizon.size()).isEqualTo(KEYS - 10);
            assertThat(afterHorizon).doesNotContainKeys("k0", "k9").containsEntry("k50", "newest");
        }
    }

    @Test
    void minCompactionLagAndDirtyRatioHoldCleaningBack() throws Exception {
        MutableClock clock = new MutableClock(System.currentTimeMillis());
        try (TestBroker broker = new TestBroker(dataDir, SETTINGS, clock);
             Admin admin = Admin.create(broker.clientProperties());
             KafkaProducer<String, String> producer = Clients.producer(broker.clientProperties(), Map.of())) {
            admin.createTopics(List.of(new NewTopic("lagged", 1, (short) 1).configs(Map.of(
                "cleanup.policy", "compact,delete", "min.compaction.lag.ms", "3600000",
                "min.cleanable.dirty.ratio", "0.6")))).all().get();
            for (int round = 0; round < 3; round++) {
                produce(producer, "lagged", round, KEYS);
            }
            broker.mergeNow();
            assertThat(readAll(broker, "lagged").size()).as("records younger than the lag stay").isEqualTo(3 * KEYS);

            clock.advance(Duration.ofHours(2));
            broker.mergeNow();
            assertThat(readAll(broker, "lagged").size()).as("compacted once old enough").isEqualTo(KEYS);

            // 30 more records are a dirty share of about 0.23, below the ratio of 0.6: no cleaning.
            produce(producer, "lagged", 3, 30);
            clock.advance(Duration.ofHours(2));
            broker.mergeNow();
            assertThat(readAll(broker, "lagged").size()).isEqualTo(KEYS + 30);

            // max.compaction.lag.ms, set at runtime, forces the cleaning the ratio held back.
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "lagged");
            admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(
                new ConfigEntry("max.compaction.lag.ms", "5400000"), AlterConfigOp.OpType.SET)))).all().get();
            broker.mergeNow();
            Map<String, String> latest = latest(readAll(broker, "lagged"));
            assertThat(latest).hasSize(KEYS);
            assertThat(latest.get("k29")).startsWith("round3-");
            assertThat(latest.get("k30")).startsWith("round2-");
        }
    }
}
