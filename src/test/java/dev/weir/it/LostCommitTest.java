package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.testing.Clients;
import dev.weir.testing.DataDirectory;
import dev.weir.testing.TestBroker;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commit of a WAL object is not synced on its own: the object is on disk before it is committed,
 * and a power failure may take the last commits (a kill does not: they are in the operating system's
 * hands by then). This test makes the database lose them, by putting back a copy of it taken earlier
 * while the WAL files stay, and checks that start-up commits the objects again: every acknowledged
 * record is back at the offset it was acknowledged with, nothing else is there, and new records follow
 * on.
 */
class LostCommitTest {
    private static final String TOPIC = "lost-commits";
    private static final int PARTITIONS = 3;

    @TempDir
    Path dataDir;
    @TempDir
    Path backupDir;

    @Test
    void acknowledgedRecordsWhoseCommitsWereLostAreCommittedAgainAtStart() throws Exception {
        Map<String, String> settings = Map.of("log.merge.interval.ms", "3600000", "wal.file.bytes", "1048576");
        Map<TopicPartition, TreeMap<Long, String>> acked = new java.util.HashMap<>();
        Path snapshot = backupDir.resolve("metadata.db");
        RecordMetadata last;
        try (TestBroker broker = new TestBroker(dataDir, settings);
             Admin admin = Admin.create(broker.clientProperties());
             KafkaProducer<String, String> producer = Clients.producer(broker.clientProperties(),
                 Map.of("acks", "all", "linger.ms", "0", "enable.idempotence", "true"))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
            produce(producer, "before", 300, acked);
            // The database as a power failure would leave it if nothing was synced after this point; only
            // WAL commits follow (no topic changes, no consumer groups, no merging).
            DataDirectory.snapshotDatabase(dataDir, snapshot);
            produce(producer, "after", 3000, acked);
            last = producer.send(new ProducerRecord<>(TOPIC, 1, "k", "after-last")).get();
            acked.get(new TopicPartition(TOPIC, 1)).put(last.offset(), "after-last");
        }
        DataDirectory.restoreDatabase(dataDir, snapshot);

        try (TestBroker broker = new TestBroker(dataDir, settings)) {
            Map<TopicPartition, TreeMap<Long, String>> read = readAll(broker);
            for (TopicPartition partition : acked.keySet()) {
                assertThat(read.getOrDefault(partition, new TreeMap<>()).keySet()).as("offsets of %s", partition)
                    .isEqualTo(acked.get(partition).keySet());
            }
            assertThat(read).as("every acknowledged record at its offset, and nothing else").isEqualTo(acked);
            try (KafkaProducer<String, String> producer = Clients.producer(broker.clientProperties(),
                Map.of("acks", "all", "linger.ms", "0"))) {
                RecordMetadata next = producer.send(new ProducerRecord<>(TOPIC, 1, "k", "next")).get();
                assertThat(next.offset()).isEqualTo(last.offset() + 1);
            }
        }
    }

    private static void produce(KafkaProducer<String, String> producer, String prefix, int count,
                                Map<TopicPartition, TreeMap<Long, String>> acked) throws Exception {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        List<String> values = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String value = prefix + "-" + i + "-" + "v".repeat(i % 500);
            values.add(value);
            sent.add(producer.send(new ProducerRecord<>(TOPIC, i % PARTITIONS, "k" + i, value)));
            if (i % 7 == 6) {
                sent.get(sent.size() - 1).get();
            }
        }
        for (int i = 0; i < count; i++) {
            RecordMetadata metadata = sent.get(i).get();
            acked.computeIfAbsent(new TopicPartition(TOPIC, metadata.partition()), key -> new TreeMap<>())
                .put(metadata.offset(), values.get(i));
        }
    }

    private static Map<TopicPartition, TreeMap<Long, String>> readAll(TestBroker broker) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            partitions.add(new TopicPartition(TOPIC, p));
        }
        Map<TopicPartition, TreeMap<Long, String>> read = new java.util.HashMap<>();
        for (ConsumerRecord<String, String> record : Clients.readToEnd(broker.clientProperties(), partitions)) {
            read.computeIfAbsent(new TopicPartition(record.topic(), record.partition()), key -> new TreeMap<>())
                .put(record.offset(), record.value());
        }
        return read;
    }
}
