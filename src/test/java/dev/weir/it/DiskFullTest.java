package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.testing.BrokerProcess;
import dev.weir.testing.QuietKafkaClientLogs;
import dev.weir.testing.Clients;
import dev.weir.testing.SmallFileSystem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker in its own JVM whose data directory lies, in part or whole, on a small real file system
 * (tmpfs) that runs full. While it is full, produce requests get KAFKA_STORAGE_ERROR and the log says
 * why once, not once per request; writes resume as soon as one WAL object fits again, not only once a
 * whole WAL file does; and a produce refused after its WAL object was written (its commit failed with
 * SQLITE_FULL) never reappears after a kill -9, while every acknowledged record survives at its
 * offset. The broker's output is in {@code target/broker-logs/}.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@ExtendWith(QuietKafkaClientLogs.class)
class DiskFullTest {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final String VALUE_PADDING = "v".repeat(1000);
    /** Records of the test that fills the disk: each is a WAL object of 17 pages. */
    private static final String LARGE_VALUE = "v".repeat(64 * 1024);
    /** A log line of the broker's own at WARN or ERROR (stack-trace lines start otherwise). */
    private static final Pattern WARNING = Pattern.compile("(?m)^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} (WARN |ERROR)");
    /** Each failure is its own answer: a retry would hide it, and the tests count what was refused. */
    private static final Map<String, String> PRODUCER = Map.of("acks", "all", "retries", "0",
        "enable.idempotence", "false", "linger.ms", "0");

    @TempDir
    Path mountPoint;

    @Test
    void writesResumeAsSoonAsOneObjectFitsAndTheRefusalIsLoggedOnce() throws Exception {
        long walFileBytes = 8L << 20;
        String topic = "fills-the-disk";
        Path dataDir = mountPoint.resolve("data");
        // Only the objects' file system runs full here, so what refuses writes is the want of room for WAL
        // files alone, not the metadata database's commits.
        Files.createDirectories(dataDir.resolve("objects"));
        try (SmallFileSystem disk = SmallFileSystem.mount(dataDir.resolve("objects"), 40);
             BrokerProcess broker = new BrokerProcess(dataDir, logFile("resume"),
                 Map.of("wal.file.bytes", Long.toString(walFileBytes), "log.merge.interval.ms", "3600000"))) {
            // Half a WAL file of the test's own, deleted once the disk is full: then less than a WAL file is free.
            Path halfAWalFile = disk.reserve("half-a-wal-file", walFileBytes / 2);
            broker.start(START_TIMEOUT);
            createTopic(broker, topic, 1);
            Set<Long> acknowledged = new HashSet<>();
            try (KafkaProducer<String, String> producer = Clients.producer(broker.clientProperties(), PRODUCER)) {
                // One record at a time, so every WAL object is as large as every other: once one does not fit,
                // none does, and nothing else takes or frees room on this file system.
                List<Throwable> refusals = new ArrayList<>();
                for (int sent = 0; refusals.isEmpty(); sent++) {
                    assertThat(sent).as("records sent before the disk is full").isLessThan(1000);
                    refusals.addAll(sendAll(producer, topic, 1, acknowledged));
                }
                disk.fill("filler");
                String untilFull = broker.logSinceStart();
                for (int i = 0; i < 20; i++) {
                    refusals.addAll(sendAll(producer, topic, 1, acknowledged));
                }
                assertThat(refusals).as("refusals while the disk is full").hasSize(21)
                    .allSatisfy(refusal -> assertThat(refusal).isInstanceOf(KafkaStorageException.class));
                assertThat(untilFull).as("broker log").containsOnlyOnce("Writes are refused");
                String whileFull = broker.logSinceStart().substring(untilFull.length());
                assertThat(warnings(whileFull)).as("broker log of 20 more refusals:%n%s", whileFull).isEmpty();

                Files.delete(halfAWalFile);
                assertThat(disk.freeBytes()).as("free bytes").isLessThan(walFileBytes);
                Awaitility.await("a produce once half a WAL file is free").atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> sendAll(producer, topic, 1, acknowledged).isEmpty());
                assertThat(sendAll(producer, topic, 10, acknowledged)).as("refusals after writes resumed").isEmpty();
            }
            String log = broker.logSinceStart();
            assertThat(log).as("broker log").containsOnlyOnce("Writes are refused").containsOnlyOnce("Writes resume");
            Set<Long> read = new HashSet<>();
            for (ConsumerRecord<String, String> record
                : Clients.readToEnd(broker.clientProperties(), List.of(new TopicPartition(topic, 0)))) {
                read.add(record.offset());
            }
            assertThat(read).as("offsets read back").isEqualTo(acknowledged);
        }
    }

    @Test
    void aProduceRefusedAfterItsObjectWasWrittenDoesNotReappearAfterAKill() throws Exception {
        String topic = "refused";
        int partitions = 3;
        long walFileBytes = 16L << 20;
        Path dataDir = mountPoint.resolve("data");
        try (SmallFileSystem disk = SmallFileSystem.mount(mountPoint, 64);
             BrokerProcess broker = new BrokerProcess(dataDir, logFile("reappear"),
                 Map.of("wal.file.bytes", Long.toString(walFileBytes), "wal.file.roll.ms", "3600000",
                     "log.merge.interval.ms", "3600000"))) {
            broker.start(START_TIMEOUT);
            createTopic(broker, topic, partitions);
            Map<TopicPartition, TreeMap<Long, String>> acknowledged = new java.util.HashMap<>();
            Map<String, Throwable> refused = new java.util.HashMap<>();
            Path filler;
            try (KafkaProducer<String, String> producer = Clients.producer(broker.clientProperties(), PRODUCER)) {
                send(producer, topic, partitions, "before", 10, acknowledged, refused);
                assertThat(refused).as("refused before the disk is full").isEmpty();
                // The first object rolled to the first WAL file and started the next one; the test fills the disk
                // once that is made, so its zeros and the test's filler do not race for the room.
                Awaitility.await("the WAL file made ahead").atMost(Duration.ofSeconds(30))
                    .until(() -> walFilesOfFullSize(dataDir, walFileBytes) == 2);
                // The WAL file being written has room left, so the next objects are written; the metadata
                // database cannot grow, so their commits fail.
                filler = disk.fill("filler");
                for (int round = 0; refused.size() < 100; round++) {
                    assertThat(round).as("rounds of 20 records").isLessThan(1000);
                    send(producer, topic, partitions, "full-" + round, 20, acknowledged, refused);
                }
            }
            assertThat(refused.values()).as("refusals")
                .allSatisfy(refusal -> assertThat(refusal).isInstanceOf(KafkaStorageException.class));
            assertThat(broker.logSinceStart()).as("broker log: a commit failed").contains("SQLITE_FULL");

            assertThat(broker.kill()).isEqualTo(BrokerProcess.SIGKILL_EXIT);
            Files.delete(filler);
            broker.start(START_TIMEOUT);
            Map<TopicPartition, TreeMap<Long, String>> read = new java.util.HashMap<>();
            List<TopicPartition> all = new ArrayList<>();
            for (int partition = 0; partition < partitions; partition++) {
                all.add(new TopicPartition(topic, partition));
            }
            for (ConsumerRecord<String, String> record : Clients.readToEnd(broker.clientProperties(), all)) {
                read.computeIfAbsent(new TopicPartition(record.topic(), record.partition()), key -> new TreeMap<>())
                    .put(record.offset(), record.key());
            }
            Set<String> reappeared = new HashSet<>();
            read.values().forEach(records -> records.values().stream().filter(refused::containsKey)
                .forEach(reappeared::add));
            assertThat(reappeared).as("refused records read after the restart (of %d refused)", refused.size()).isEmpty();
            assertThat(read).as("every acknowledged record at its offset").isEqualTo(acknowledged);
        }
    }

    private static Path logFile(String name) {
        return Path.of("target", "broker-logs", "DiskFullTest-" + name + "-" + System.nanoTime() + ".log")
            .toAbsolutePath();
    }

    private static void createTopic(BrokerProcess broker, String topic, int partitions) throws Exception {
        try (Admin admin = Admin.create(broker.clientProperties())) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    private static long walFilesOfFullSize(Path dataDir, long walFileBytes) throws IOException {
        try (var files = Files.list(dataDir.resolve("objects").resolve("wal"))) {
            return files.filter(file -> file.toFile().length() == walFileBytes).count();
        }
    }

    private static List<String> warnings(String log) {
        return WARNING.matcher(log).results().map(match -> log.substring(match.start(),
            log.indexOf('\n', match.start()) < 0 ? log.length() : log.indexOf('\n', match.start()))).toList();
    }

    /** Sends {@code count} records and waits for their answers; returns the failures, adds the acknowledged offsets. */
    private static List<Throwable> sendAll(KafkaProducer<String, String> producer, String topic, int count,
                                           Set<Long> acknowledged) throws InterruptedException {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            sent.add(producer.send(new ProducerRecord<>(topic, 0, null, LARGE_VALUE)));
        }
        List<Throwable> failures = new ArrayList<>();
        for (Future<RecordMetadata> future : sent) {
            try {
                acknowledged.add(future.get().offset());
            } catch (ExecutionException e) {
                failures.add(e.getCause());
            }
        }
        return failures;
    }

    /**
     * Sends {@code count} records keyed {@code <prefix>-<i>} over the partitions and waits for their
     * answers: acknowledged ones by partition and offset, refused ones by key.
     */
    private static void send(KafkaProducer<String, String> producer, String topic, int partitions, String prefix,
                             int count, Map<TopicPartition, TreeMap<Long, String>> acknowledged,
                             Map<String, Throwable> refused) throws InterruptedException {
        Map<String, Future<RecordMetadata>> sent = new java.util.LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            String key = prefix + "-" + i;
            sent.put(key, producer.send(new ProducerRecord<>(topic, i % partitions, key, VALUE_PADDING)));
        }
        for (Map.Entry<String, Future<RecordMetadata>> entry : sent.entrySet()) {
            try {
                RecordMetadata metadata = entry.getValue().get();
                acknowledged.computeIfAbsent(new TopicPartition(topic, metadata.partition()), key -> new TreeMap<>())
                    .put(metadata.offset(), entry.getKey());
            } catch (ExecutionException e) {
                refused.put(entry.getKey(), e.getCause());
            }
        }
    }
}
