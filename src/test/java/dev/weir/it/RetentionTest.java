package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weir.testing.MutableClock;
import dev.weir.testing.DataDirectory;
import dev.weir.testing.TestBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** retention.ms and retention.bytes move the log start; unreferenced objects are collected after a delay. */
class RetentionTest {
    @TempDir
    Path dataDir;

    private static void produce(TestBroker broker, String topic, int count, long timestamp) throws Exception {
        Properties properties = broker.clientProperties();
        properties.put("acks", "all");
        properties.put("linger.ms", "0");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(properties, new StringSerializer(),
            new StringSerializer())) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, 0, timestamp, "k" + i, "v".repeat(1000))).get();
            }
        }
    }

    private static long earliest(Admin admin, TopicPartition partition) throws Exception {
        return admin.listOffsets(Map.of(partition, OffsetSpec.earliest())).partitionResult(partition).get().offset();
    }

    /** Committed WAL files: with wal.file.roll.ms=0 each WAL object gets one of its own. */
    private long walObjects() throws Exception {
        return DataDirectory.committedWalFiles(dataDir).size();
    }

    @Test
    void retentionMovesTheLogStartAndOldObjectsAreDeletedAfterTheDelay() throws Exception {
        MutableClock clock = new MutableClock(System.currentTimeMillis());
        TopicPartition partition = new TopicPartition("retained", 0);
        try (TestBroker broker = new TestBroker(dataDir, Map.of("log.retention.check.interval.ms", "3600000",
            "wal.file.roll.ms", "0", "wal.file.bytes", "1048576"), clock);
             Admin admin = Admin.create(broker.clientProperties())) {
            admin.createTopics(List.of(new NewTopic("retained", 1, (short) 1)
                .configs(Map.of("retention.ms", "3600000")))).all().get();
            produce(broker, "retained", 10, clock.millis());
            clock.advance(Duration.ofHours(2));
            produce(broker, "retained", 5, clock.millis());
            long objectsBefore = walObjects();

            broker.enforceRetentionNow();
            assertThat(earliest(admin, partition)).isEqualTo(10);
            Properties strict = broker.clientProperties();
            strict.put("auto.offset.reset", "none");
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(strict, new StringDeserializer(),
                new StringDeserializer())) {
                consumer.assign(List.of(partition));
                consumer.seek(partition, 3);
                assertThatThrownBy(() -> {
                    for (int i = 0; i < 50; i++) {
                        consumer.poll(Duration.ofMillis(100));
                    }
                }).isInstanceOf(OffsetOutOfRangeException.class);
            }
            assertThat(walObjects()).as("objects are kept for log.segment.delete.delay.ms").isEqualTo(objectsBefore);
            clock.advance(Duration.ofMinutes(2));
            broker.enforceRetentionNow();
            assertThat(walObjects()).isEqualTo(objectsBefore - 10);

            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "retained");
            admin.incrementalAlterConfigs(Map.of(resource, List.of(
                new AlterConfigOp(new ConfigEntry("retention.ms", "-1"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("retention.bytes", "2500"), AlterConfigOp.OpType.SET)))).all().get();
            broker.enforceRetentionNow();
            // Five batches of about 1.1 kB: two can go while the rest stays at or above 2500 bytes, as Kafka counts.
            assertThat(earliest(admin, partition)).isEqualTo(12);
        }
    }
}
