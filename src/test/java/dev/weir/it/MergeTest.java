package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.testing.Clients;
import dev.weir.testing.DataDirectory;
import dev.weir.testing.MutableClock;
import dev.weir.testing.TestBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Merging rewrites WAL objects into per-partition segments: under a steady load of small batches the
 * number of objects and index rows stays bounded, a consumer reading all the while sees every record
 * once and in order, and the merged log reads the same after a restart.
 */
class MergeTest {
    private static final int PARTITIONS = 3;
    private static final int ROUNDS = 12;
    private static final int RECORDS_PER_ROUND = 600;

    @TempDir
    Path dataDir;

    private record Counts(long walObjects, long segmentObjects, long rows) {
    }

    /** Committed WAL files (objects are written into them one after another), segment files and index rows. */
    private Counts counts() throws Exception {
        Set<String> files = DataDirectory.objectFiles(dataDir);
        return new Counts(DataDirectory.committedWalFiles(dataDir).size(),
            files.stream().filter(key -> key.startsWith("segment/")).count(), DataDirectory.indexRows(dataDir));
    }

    private static String value(int partition, long offset) {
        return "p" + partition + "-" + offset + "-" + "x".repeat(1800);
    }

    @Test
    void objectsAndRowsStayBoundedAndReadersNeverSeeAGap() throws Exception {
        MutableClock clock = new MutableClock(System.currentTimeMillis());
        Map<String, String> settings = Map.of("log.merge.interval.ms", "3600000", "log.merge.min.age.ms", "0", "log.retention.check.interval.ms",
            "3600000", "log.merge.row.bytes", "65536");
        List<Counts> beforeMerge = new ArrayList<>();
        List<Counts> afterMerge = new ArrayList<>();
        long produced = (long) ROUNDS * RECORDS_PER_ROUND;
        try (TestBroker broker = new TestBroker(dataDir, settings, clock);
             Admin admin = Admin.create(broker.clientProperties())) {
            admin.createTopics(List.of(new NewTopic("merged", PARTITIONS, (short) 1)
                .configs(Map.of("segment.bytes", "1048576")))).all().get();
            AtomicReference<Throwable> readerFailure = new AtomicReference<>();
            List<List<String>> seen = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                seen.add(java.util.Collections.synchronizedList(new ArrayList<>()));
            }
            Thread reader = new Thread(() -> readAll(broker, produced, seen, readerFailure), "merge-test-reader");
            reader.start();
            try (KafkaProducer<String, String> producer = Clients.producer(broker.clientProperties(),
                Map.of("acks", "all", "linger.ms", "0", "enable.idempotence", "true"))) {
                long[] next = new long[PARTITIONS];
                for (int round = 0; round < ROUNDS; round++) {
                    // Small batches: every tenth record waits for its acknowledgement.
                    for (int i = 0; i < RECORDS_PER_ROUND; i++) {
                        int partition = i % PARTITIONS;
                        var sent = producer.send(new ProducerRecord<>("merged", partition, "k" + i,
                            value(partition, next[partition]++)));
                        if (i % 10 == 9) {
                            sent.get();
                        }
                    }
                    producer.flush();
                    beforeMerge.add(counts());
                    broker.mergeNow();
                    clock.advance(Duration.ofMinutes(2));
                    broker.mergeNow();
                    afterMerge.add(counts());
                }
            }
            reader.join(60_000);
            assertThat(readerFailure.get()).as("the reader saw no error").isNull();
            assertThat(reader.isAlive()).isFalse();
            for (int p = 0; p < PARTITIONS; p++) {
                assertThat(seen.get(p)).hasSize(ROUNDS * RECORDS_PER_ROUND / PARTITIONS);
                for (int offset = 0; offset < seen.get(p).size(); offset++) {
                    assertThat(seen.get(p).get(offset)).isEqualTo(value(p, offset));
                }
            }
            Counts last = afterMerge.get(afterMerge.size() - 1);
            System.out.printf("Merging, %d rounds of %d records: before the last merge %s, after it %s%n", ROUNDS,
                RECORDS_PER_ROUND, beforeMerge.get(beforeMerge.size() - 1), last);
            assertThat(last.walObjects()).as("merged WAL files are deleted after the grace period, all but the one"
                + " being written").isLessThanOrEqualTo(1);
            long batches = beforeMerge.get(0).rows();
            for (int round = 1; round < ROUNDS; round++) {
                batches += beforeMerge.get(round).rows() - afterMerge.get(round - 1).rows();
            }
            for (Counts counts : afterMerge) {
                // About 370 KB a round per partition, 4.4 MB in all: 1 MiB segments with 64 KiB rows, plus
                // at most three small segments of each size class waiting to be merged.
                assertThat(counts.segmentObjects()).as("segments of %s", afterMerge).isLessThanOrEqualTo(PARTITIONS * 16L);
                assertThat(counts.rows()).as("rows of %s", afterMerge).isLessThanOrEqualTo(PARTITIONS * 100L);
            }
            System.out.printf("%d batches were produced; %d index rows are left%n", batches, last.rows());
            assertThat(batches).isGreaterThan(last.rows() * 4);
            assertThat(admin.listOffsets(Map.of(new TopicPartition("merged", 1), OffsetSpec.latest())).all().get()
                .get(new TopicPartition("merged", 1)).offset()).isEqualTo(produced / PARTITIONS);
        }
        try (TestBroker broker = new TestBroker(dataDir, settings, clock)) {
            assertThat(counts().segmentObjects()).as("start-up keeps committed segments").isEqualTo(
                afterMerge.get(afterMerge.size() - 1).segmentObjects());
            List<List<String>> seen = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                seen.add(new ArrayList<>());
            }
            AtomicReference<Throwable> failure = new AtomicReference<>();
            readAll(broker, produced, seen, failure);
            assertThat(failure.get()).isNull();
            for (int p = 0; p < PARTITIONS; p++) {
                for (int offset = 0; offset < seen.get(p).size(); offset++) {
                    assertThat(seen.get(p).get(offset)).isEqualTo(value(p, offset));
                }
            }
        }
    }

    @Test
    void walObjectsYoungerThanTheMinimumAgeAreNotMerged() throws Exception {
        MutableClock clock = new MutableClock(System.currentTimeMillis());
        try (TestBroker broker = new TestBroker(dataDir, Map.of("log.merge.interval.ms", "3600000"), clock);
             KafkaProducer<String, String> producer = Clients.producer(broker.clientProperties(), Map.of())) {
            producer.send(new ProducerRecord<>("young", 0, "k", "v")).get();
            broker.mergeNow();
            assertThat(counts().segmentObjects()).as("log.merge.min.age.ms (60 s) has not passed").isZero();
            clock.advance(Duration.ofSeconds(61));
            broker.mergeNow();
            assertThat(counts().segmentObjects()).isEqualTo(1);
        }
    }

    /** Reads every partition from the start until {@code total} records arrived, checking offsets have no gap. */
    private static void readAll(TestBroker broker, long total, List<List<String>> seen, AtomicReference<Throwable> failure) {
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.clientProperties(),
            Map.of("max.partition.fetch.bytes", "20000", "auto.offset.reset", "none"))) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                partitions.add(new TopicPartition("merged", p));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long received = 0;
            long deadline = System.currentTimeMillis() + 120_000;
            while (received < total && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
                    List<String> values = seen.get(record.partition());
                    if (record.offset() != values.size()) {
                        throw new AssertionError("partition " + record.partition() + " jumped to offset "
                            + record.offset() + " after " + values.size() + " records");
                    }
                    values.add(record.value());
                    received++;
                }
            }
        } catch (Throwable e) {
            failure.set(e);
        }
    }
}
