package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.testing.BrokerProcess;
import dev.weir.testing.QuietKafkaClientLogs;
import dev.weir.testing.DataDirectory;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a broker running in its own JVM with SIGKILL while an idempotent producer (acks=all) streams
 * into it, restarts it on the same data directory and checks, after every restart, that every
 * acknowledged record is there exactly once at the offset it was acknowledged with, that offsets are
 * contiguous from 0, that nothing is duplicated or reordered, that everything readable before a crash
 * is still readable after it, and that no uncommitted object survives recovery. The broker merges
 * WAL objects into segments every few milliseconds and collects unreferenced objects almost at once,
 * so kills also land in the middle of merging and garbage collection; while it is down, every object
 * the metadata database commits must have its file.
 *
 * <p>The kill times come from a seeded {@link Random}; the seed is printed and can be replayed with
 * {@code -Dweir.crash.seed=<seed>}. The broker's output is in {@code target/broker-logs/}.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
@ExtendWith(QuietKafkaClientLogs.class)
class CrashRecoveryTest {
    private static final int ROUNDS = 5;
    private static final int PARTITIONS = 4;
    private static final String TOPIC = "crash-recovery";
    /** A compacted topic (cleaned after every merge) and a topic held to a small retention.bytes. */
    private static final String COMPACTED = "crash-compacted";
    private static final String RETAINED = "crash-retained";
    private static final int KEYS = 300;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    /** Sends not yet completed at any moment, so the producer's buffer never fills while the broker is down. */
    private static final int MAX_OUTSTANDING = 4000;
    /** Records sent per second at most, so the amount to verify (and the run time) stays bounded. */
    private static final int MAX_RECORDS_PER_SECOND = 40_000;

    @TempDir
    Path dataDir;
    private BrokerProcess broker;

    /** Every acknowledged record: partition, then offset to value, filled from the send callbacks. */
    private final Map<Integer, ConcurrentSkipListMap<Long, String>> acknowledged = new HashMap<>();
    /** Acknowledged records of the compacted topic: key, then offset to value. */
    private final Map<String, ConcurrentSkipListMap<Long, String>> compactedAcks = new java.util.concurrent.ConcurrentHashMap<>();
    /** Acknowledged records of the retained topic (one partition): offset to value. */
    private final ConcurrentSkipListMap<Long, String> retainedAcks = new ConcurrentSkipListMap<>();
    /** Anomalies seen in callbacks (an offset acknowledged twice with different values, a wrong partition). */
    private final ConcurrentLinkedQueue<String> callbackProblems = new ConcurrentLinkedQueue<>();
    /** The next sequence number of each partition's values; values are "r<round>-p<partition>-s<seq>". */
    private final long[] nextSequence = new long[PARTITIONS];
    /** The whole log of every partition as read at the previous verification. */
    private Map<Integer, List<String>> previouslyRead = new HashMap<>();

    @AfterEach
    void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void acknowledgedRecordsSurviveSigkillExactlyOnceAtTheirOffsets() throws Exception {
        long seed = Long.getLong("weir.crash.seed", System.nanoTime());
        System.out.println("CrashRecoveryTest seed = " + seed + " (replay with -Dweir.crash.seed=" + seed + ")");
        Random random = new Random(seed);
        long testStart = System.nanoTime();
        for (int partition = 0; partition < PARTITIONS; partition++) {
            acknowledged.put(partition, new ConcurrentSkipListMap<>());
        }
        Path logFile = Path.of("target", "broker-logs", "CrashRecoveryTest-" + seed + ".log").toAbsolutePath();
        System.out.println("Broker output goes to " + logFile);
        broker = new BrokerProcess(dataDir, logFile, Map.of("log.merge.interval.ms", "20", "log.merge.min.age.ms", "0",
            "log.segment.delete.delay.ms", "200", "log.merge.row.bytes", "16384", "log.retention.check.interval.ms", "100"));

        Set<String> orphansAtKill = Set.of();
        for (int round = 0; round < ROUNDS; round++) {
            long killAfterMs = 300 + random.nextInt(1201);
            broker.start(START_TIMEOUT);
            String startupLog = broker.logSinceStart();
            System.out.printf("Round %d: broker pid %d on port %d, will be killed %d ms after the first acknowledgement%n",
                round, broker.pid(), broker.port(), killAfterMs);
            if (round == 0) {
                try (Admin admin = Admin.create(broker.clientProperties())) {
                    admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1),
                        new NewTopic(COMPACTED, 2, (short) 1).configs(Map.of("cleanup.policy", "compact",
                            "min.cleanable.dirty.ratio", "0.01", "segment.bytes", "1048576")),
                        new NewTopic(RETAINED, 1, (short) 1).configs(Map.of("retention.bytes", "200000"))))
                        .all().get(15, TimeUnit.SECONDS);
                }
            } else {
                checkRecovery(round, orphansAtKill, startupLog);
                verifyLog("after restart " + round);
                verifyCompactedAndRetained("after restart " + round);
            }

            RoundResult result = produceAndKill(round, killAfterMs);
            System.out.printf("Round %d: %d records acknowledged, %d sends failed, killed with exit status %d; "
                    + "%d acknowledged in all%n", round, result.acked, result.failed, result.exitStatus, totalAcknowledged());
            assertThat(result.exitStatus).as("exit status of the broker after destroyForcibly (SIGKILL = 137)")
                .isEqualTo(BrokerProcess.SIGKILL_EXIT);
            assertThat(result.acked).as("records acknowledged in round %d", round).isPositive();
            orphansAtKill = checkWhileDown(round);
        }

        broker.start(START_TIMEOUT);
        checkRecovery(ROUNDS, orphansAtKill, broker.logSinceStart());
        verifyLog("after the last restart");
        // The broker still takes writes after all those crashes.
        try (KafkaProducer<String, String> producer = producer(broker.bootstrap())) {
            int partition = 0;
            String value = "final-p0-s" + nextSequence[partition]++;
            long offset = producer.send(new ProducerRecord<>(TOPIC, partition, null, value)).get(15, TimeUnit.SECONDS).offset();
            acknowledged.get(partition).put(offset, value);
        }
        verifyLog("after a final produce");
        long compactedRead = verifyCompactedAndRetained("at the end");
        long compactedAcked = compactedAcks.values().stream().mapToLong(Map::size).sum();
        assertThat(compactedRead).as("compaction removed superseded records").isLessThan(compactedAcked);
        int stopStatus = broker.stop();
        System.out.printf("Broker stopped with SIGTERM, exit status %d%n", stopStatus);
        Set<String> files = objectFiles();
        Set<String> committed = committedObjects();
        assertThat(files).as("after a clean stop the object files are exactly the committed objects").isEqualTo(committed);
        System.out.printf("After the clean stop: %d committed objects (%d segments), each with its file%n",
            committed.size(), committed.stream().filter(key -> key.startsWith("segment/")).count());

        assertThat(callbackProblems).as("problems seen in send callbacks").isEmpty();
        assertThat(totalAcknowledged()).as("acknowledged records over %d rounds", ROUNDS).isGreaterThan(1000);
        System.out.printf("CrashRecoveryTest: %d acknowledged records verified over %d kills in %d ms (seed %d)%n",
            totalAcknowledged(), ROUNDS, (System.nanoTime() - testStart) / 1_000_000, seed);
    }

    private long totalAcknowledged() {
        return acknowledged.values().stream().mapToLong(Map::size).sum();
    }

    private record RoundResult(long acked, long failed, int exitStatus) {
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        Properties properties = new Properties();
        properties.put("bootstrap.servers", bootstrap);
        properties.put("acks", "all");
        properties.put("enable.idempotence", "true");
        properties.put("linger.ms", "2");
        properties.put("request.timeout.ms", "2000");
        properties.put("delivery.timeout.ms", "4000");
        properties.put("max.block.ms", "2000");
        properties.put("reconnect.backoff.ms", "50");
        properties.put("reconnect.backoff.max.ms", "200");
        return new KafkaProducer<>(properties, new StringSerializer(), new StringSerializer());
    }

    /**
     * Streams records from a background thread with a new producer (so a new producer id), kills the
     * broker {@code killAfterMs} after the first acknowledgement, then stops the thread and closes the
     * producer, which fails whatever was not acknowledged.
     */
    private RoundResult produceAndKill(int round, long killAfterMs) throws Exception {
        KafkaProducer<String, String> producer = producer(broker.bootstrap());
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong acked = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        CountDownLatch firstAck = new CountDownLatch(1);
        Semaphore window = new Semaphore(MAX_OUTSTANDING);
        ConcurrentLinkedQueue<Throwable> senderErrors = new ConcurrentLinkedQueue<>();
        Thread sender = new Thread(() -> {
            long counter = 0;
            long started = System.nanoTime();
            while (!stop.get()) {
                try {
                    long allowed = (System.nanoTime() - started) / 1_000 * MAX_RECORDS_PER_SECOND / 1_000_000;
                    if (counter >= allowed) {
                        Thread.sleep(1);
                        continue;
                    }
                    if (!window.tryAcquire(20, TimeUnit.MILLISECONDS)) {
                        continue;
                    }
                } catch (InterruptedException e) {
                    return;
                }
                if (counter % 4 == 1 && window.tryAcquire()) {
                    sendCompacted(producer, round, counter, window, senderErrors, stop);
                }
                if (counter % 4 == 3 && window.tryAcquire()) {
                    sendRetained(producer, round, counter, window, senderErrors, stop);
                }
                int partition = (int) (counter++ % PARTITIONS);
                String value = "r" + round + "-p" + partition + "-s" + nextSequence[partition]++;
                try {
                    producer.send(new ProducerRecord<>(TOPIC, partition, null, value), (metadata, error) -> {
                        window.release();
                        if (error != null) {
                            failed.incrementAndGet();
                            return;
                        }
                        if (metadata.partition() != partition) {
                            callbackProblems.add(value + " was acknowledged in partition " + metadata.partition());
                        }
                        String previous = acknowledged.get(partition).putIfAbsent(metadata.offset(), value);
                        if (previous != null) {
                            callbackProblems.add("offset " + metadata.offset() + " of partition " + partition
                                + " was acknowledged for both " + previous + " and " + value);
                        }
                        acked.incrementAndGet();
                        firstAck.countDown();
                    });
                } catch (RuntimeException e) {
                    window.release();
                    failed.incrementAndGet();
                    if (!stop.get() && broker.isAlive()) {
                        senderErrors.add(e);
                    }
                }
            }
        }, "crash-test-sender-" + round);
        sender.setDaemon(true);
        sender.start();

        int exitStatus;
        try {
            assertThat(firstAck.await(20, TimeUnit.SECONDS)).as("a first record was acknowledged in round %d", round)
                .isTrue();
            Thread.sleep(killAfterMs);
            long ackedAtKill = acked.get();
            exitStatus = broker.kill();
            System.out.printf("Round %d: SIGKILL sent with %d records acknowledged so far this round%n", round, ackedAtKill);
        } finally {
            stop.set(true);
            sender.join(TimeUnit.SECONDS.toMillis(10));
            producer.close(Duration.ofSeconds(1));
        }
        assertThat(sender.isAlive()).as("sender thread stopped").isFalse();
        assertThat(senderErrors).as("send() failures while the broker was up").isEmpty();
        return new RoundResult(acked.get(), failed.get(), exitStatus);
    }

    private void sendCompacted(KafkaProducer<String, String> producer, int round, long counter, Semaphore window,
                               ConcurrentLinkedQueue<Throwable> senderErrors, AtomicBoolean stop) {
        String key = "k" + (counter / 4) % KEYS;
        String value = "r" + round + "-c" + counter;
        try {
            producer.send(new ProducerRecord<>(COMPACTED, key, value), (metadata, error) -> {
                window.release();
                if (error == null) {
                    compactedAcks.computeIfAbsent(key, k -> new ConcurrentSkipListMap<>())
                        .put(metadata.partition() * (1L << 40) + metadata.offset(), value);
                }
            });
        } catch (RuntimeException e) {
            window.release();
            if (!stop.get() && broker.isAlive()) {
                senderErrors.add(e);
            }
        }
    }

    private void sendRetained(KafkaProducer<String, String> producer, int round, long counter, Semaphore window,
                              ConcurrentLinkedQueue<Throwable> senderErrors, AtomicBoolean stop) {
        String value = "r" + round + "-t" + counter;
        try {
            producer.send(new ProducerRecord<>(RETAINED, 0, null, value), (metadata, error) -> {
                window.release();
                if (error == null) {
                    retainedAcks.put(metadata.offset(), value);
                }
            });
        } catch (RuntimeException e) {
            window.release();
            if (!stop.get() && broker.isAlive()) {
                senderErrors.add(e);
            }
        }
    }

    /**
     * The compacted topic: offsets only grow, and for every key the last record in the log is at or
     * after the key's latest acknowledged record (and is that record when at its offset). The retained
     * topic: offsets run without a gap from the log start, every acknowledged record from there on is
     * present, and the newest acknowledged record is kept. Returns the compacted topic's record count.
     */
    private long verifyCompactedAndRetained(String when) throws Exception {
        List<TopicPartition> partitions = List.of(new TopicPartition(COMPACTED, 0), new TopicPartition(COMPACTED, 1),
            new TopicPartition(RETAINED, 0));
        Map<TopicPartition, List<ConsumerRecord<String, String>>> read = new HashMap<>();
        Map<TopicPartition, Long> beginning;
        Properties properties = broker.clientProperties();
        properties.put("auto.offset.reset", "none");
        try (KafkaConsumer<String, String> consumer =
                 new KafkaConsumer<>(properties, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(partitions);
            beginning = consumer.beginningOffsets(partitions, Duration.ofSeconds(15));
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(15));
            consumer.seekToBeginning(partitions);
            partitions.forEach(tp -> read.put(tp, new ArrayList<>()));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertThat(System.nanoTime()).as("%s: reading the compacted and retained topics timed out", when)
                    .isLessThan(deadline);
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                    if (record.offset() < end.get(tp)) {
                        read.get(tp).add(record);
                    }
                }
            }
        }
        List<String> problems = new ArrayList<>();
        Map<String, long[]> lastOfKey = new HashMap<>();
        Map<String, String> lastValueOfKey = new HashMap<>();
        long compactedRecords = 0;
        for (int partition = 0; partition < 2; partition++) {
            long previous = -1;
            for (ConsumerRecord<String, String> record : read.get(new TopicPartition(COMPACTED, partition))) {
                compactedRecords++;
                if (record.offset() <= previous) {
                    problems.add(COMPACTED + "-" + partition + ": offset " + record.offset() + " after " + previous);
                }
                previous = record.offset();
                lastOfKey.put(record.key(), new long[] {partition, record.offset()});
                lastValueOfKey.put(record.key(), record.value());
            }
        }
        for (Map.Entry<String, ConcurrentSkipListMap<Long, String>> entry : compactedAcks.entrySet()) {
            Map.Entry<Long, String> latest = entry.getValue().lastEntry();
            long partition = latest.getKey() >> 40;
            long offset = latest.getKey() & ((1L << 40) - 1);
            long[] found = lastOfKey.get(entry.getKey());
            if (found == null || found[0] != partition || found[1] < offset) {
                problems.add(COMPACTED + ": key " + entry.getKey() + " acknowledged at " + partition + "/" + offset
                    + " but the log's last record of it is " + (found == null ? "none" : found[0] + "/" + found[1]));
            } else if (found[1] == offset && !lastValueOfKey.get(entry.getKey()).equals(latest.getValue())) {
                problems.add(COMPACTED + ": key " + entry.getKey() + " at " + offset + " holds "
                    + lastValueOfKey.get(entry.getKey()) + ", acknowledged " + latest.getValue());
            }
        }
        TopicPartition retained = new TopicPartition(RETAINED, 0);
        long start = beginning.get(retained);
        List<ConsumerRecord<String, String>> log = read.get(retained);
        for (int i = 0; i < log.size(); i++) {
            if (log.get(i).offset() != start + i) {
                problems.add(retained + ": record #" + i + " has offset " + log.get(i).offset() + " (start " + start + ")");
                break;
            }
        }
        for (Map.Entry<Long, String> acked : retainedAcks.tailMap(start).entrySet()) {
            int index = (int) (acked.getKey() - start);
            if (index >= log.size() || !log.get(index).value().equals(acked.getValue())) {
                problems.add(retained + ": acknowledged " + acked.getValue() + " at " + acked.getKey() + " is missing");
                break;
            }
        }
        if (!retainedAcks.isEmpty() && retainedAcks.lastKey() < start) {
            problems.add(retained + ": retention dropped the newest acknowledged record " + retainedAcks.lastKey());
        }
        System.out.printf("Verified %s: compacted topic %d records for %d keys (%d acknowledged); retained topic from"
            + " offset %d, %d records; %d problems%n", when, compactedRecords, lastOfKey.size(),
            compactedAcks.values().stream().mapToLong(Map::size).sum(), start, log.size(), problems.size());
        problems.stream().limit(20).forEach(problem -> System.out.println("  PROBLEM " + problem));
        assertThat(problems).as("compacted and retained topics %s (broker log %s)", when, broker.logFile()).isEmpty();
        return compactedRecords;
    }

    /** Reads every partition from its start to its end offset and checks it against what was acknowledged. */
    private void verifyLog(String when) throws Exception {
        List<TopicPartition> partitions = new ArrayList<>();
        for (int partition = 0; partition < PARTITIONS; partition++) {
            partitions.add(new TopicPartition(TOPIC, partition));
        }
        Map<Integer, List<ConsumerRecord<String, String>>> read = new HashMap<>();
        Map<TopicPartition, Long> beginning;
        Map<TopicPartition, Long> end;
        Properties properties = broker.clientProperties();
        properties.put("enable.auto.commit", "false");
        properties.put("auto.offset.reset", "none");
        try (KafkaConsumer<String, String> consumer =
                 new KafkaConsumer<>(properties, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(partitions);
            beginning = consumer.beginningOffsets(partitions, Duration.ofSeconds(15));
            end = consumer.endOffsets(partitions, Duration.ofSeconds(15));
            consumer.seekToBeginning(partitions);
            partitions.forEach(tp -> read.put(tp.partition(), new ArrayList<>()));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertThat(System.nanoTime()).as("%s: reading up to end offsets %s timed out at positions %s", when, end,
                    partitions.stream().collect(Collectors.toMap(tp -> tp, consumer::position))).isLessThan(deadline);
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.offset() < end.get(new TopicPartition(record.topic(), record.partition()))) {
                        read.get(record.partition()).add(record);
                    }
                }
            }
        }

        List<String> problems = new ArrayList<>();
        long records = 0;
        long acknowledgedChecked = 0;
        for (TopicPartition tp : partitions) {
            int partition = tp.partition();
            List<ConsumerRecord<String, String>> log = read.get(partition);
            long endOffset = end.get(tp);
            records += log.size();
            if (beginning.get(tp) != 0) {
                problems.add(tp + ": log start offset is " + beginning.get(tp) + ", expected 0");
            }
            if (log.size() != endOffset) {
                problems.add(tp + ": read " + log.size() + " records below end offset " + endOffset);
            }
            Set<String> seen = new HashSet<>();
            long previousSequence = -1;
            List<String> values = new ArrayList<>();
            for (int i = 0; i < log.size(); i++) {
                ConsumerRecord<String, String> record = log.get(i);
                values.add(record.value());
                if (record.offset() != i) {
                    problems.add(tp + ": record #" + i + " has offset " + record.offset() + " (gap or overlap)");
                }
                if (!seen.add(record.value())) {
                    problems.add(tp + ": " + record.value() + " is stored twice, again at offset " + record.offset());
                }
                long sequence = sequenceOf(record.value());
                if (sequence <= previousSequence) {
                    problems.add(tp + ": " + record.value() + " at offset " + record.offset()
                        + " is out of order (previous sequence " + previousSequence + ")");
                }
                previousSequence = Math.max(previousSequence, sequence);
            }
            NavigableMap<Long, String> acked = acknowledged.get(partition);
            for (Map.Entry<Long, String> entry : acked.entrySet()) {
                acknowledgedChecked++;
                long offset = entry.getKey();
                if (offset >= log.size()) {
                    problems.add(tp + ": acknowledged " + entry.getValue() + " at offset " + offset
                        + " is missing (log ends at " + log.size() + ")");
                } else if (!log.get((int) offset).value().equals(entry.getValue())) {
                    problems.add(tp + ": acknowledged " + entry.getValue() + " at offset " + offset
                        + " but the log has " + log.get((int) offset).value() + " there");
                }
            }
            List<String> before = previouslyRead.getOrDefault(partition, List.of());
            if (values.size() < before.size() || !values.subList(0, before.size()).equals(before)) {
                problems.add(tp + ": the " + before.size() + " records readable at the previous check are not a prefix "
                    + "of the log now (" + values.size() + " records)");
            }
            previouslyRead.put(partition, values);
        }
        System.out.printf("Verified %s: %d records in the log, %d acknowledged records checked, end offsets %s, "
            + "%d problems%n", when, records, acknowledgedChecked, end, problems.size());
        problems.stream().limit(50).forEach(problem -> System.out.println("  PROBLEM " + problem));
        assertThat(problems).as("log problems %s (broker log %s)", when, broker.logFile()).isEmpty();
    }

    private static long sequenceOf(String value) {
        return Long.parseLong(value.substring(value.lastIndexOf("-s") + 2));
    }

    private Set<String> objectFiles() throws IOException {
        return DataDirectory.objectFiles(dataDir);
    }

    private Set<String> committedObjects() throws SQLException {
        return DataDirectory.committedObjects(dataDir);
    }

    /**
     * While the broker is down after a kill: every committed object has its file (whatever the kill
     * interrupted: a WAL commit, a merge's index switch, garbage collection). Returns the files nothing
     * commits (a WAL object or segment written but never committed), which recovery must delete.
     */
    private Set<String> checkWhileDown(int round) throws Exception {
        Set<String> files = objectFiles();
        Set<String> committed = committedObjects();
        Set<String> missing = new TreeSet<>(committed);
        missing.removeAll(files);
        Set<String> orphans = new TreeSet<>(files);
        orphans.removeAll(committed);
        System.out.printf("Kill %d: %d object files, %d committed objects (%d segments), %d orphans%n", round,
            files.size(), committed.size(), committed.stream().filter(key -> key.startsWith("segment/")).count(),
            orphans.size());
        assertThat(missing).as("committed objects without a file after kill %d", round).isEmpty();
        return orphans;
    }

    /**
     * Right after a restart: the orphans of the kill are gone (keys are never reused, so none can come
     * back), except WAL files whose written objects start-up committed (objects written but not yet
     * committed when the kill came: never acknowledged, but whole and in order).
     */
    private void checkRecovery(int round, Set<String> orphansAtKill, String startupLog) throws Exception {
        Set<String> left = new TreeSet<>(orphansAtKill);
        left.retainAll(objectFiles());
        Set<String> committedAtStart = committedObjects();
        left.removeIf(key -> key.startsWith("wal/") && committedAtStart.contains(key));
        assertThat(left).as("uncommitted objects left after restart %d", round).isEmpty();
        startupLog.lines().filter(line -> line.contains("never committed") || line.contains("written after the last commit"))
            .forEach(line -> System.out.println("  broker: " + line));
    }
}
