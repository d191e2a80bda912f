package dev.weir.metadata.postgres;

import static dev.weir.metadata.Batches.extend;
import static dev.weir.metadata.Batches.first;
import static dev.weir.metadata.Batches.idempotent;
import static dev.weir.metadata.Batches.plain;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.metadata.AppendFailure;
import dev.weir.metadata.AppendOutcome;
import dev.weir.metadata.BatchAppend;
import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.PartitionOffsets;
import dev.weir.metadata.TopicRecord;
import dev.weir.metadata.WalWrite;
import dev.weir.testing.PostgresProcess;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What SQLite cannot have: two brokers, each with a store and a pool of its own, committing to one
 * PostgreSQL database at the same time. Offsets stay contiguous and never overlap, commits never
 * deadlock, and an idempotent producer's retry is recognised whichever broker it reaches.
 */
class PostgresMetadataStoreConcurrencyTest {
    private static final int PARTITIONS = 4;
    private static final int THREADS_PER_BROKER = 3;
    private static final int COMMITS_PER_THREAD = 40;
    private static final int BATCH_SIZE = 100;
    private static final long TIMEOUT_SECONDS = 120;

    @TempDir
    static Path dir;
    private static PostgresProcess postgres;
    private static int databases;

    private PostgresMetadataStore brokerA;
    private PostgresMetadataStore brokerB;
    private ExecutorService threads;

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = PostgresProcess.start(dir);
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    @BeforeEach
    void openTwoBrokers() throws Exception {
        String url = postgres.createDatabase("concurrency_" + ++databases);
        brokerA = new PostgresMetadataStore(url, PostgresProcess.USER, null, Clock.systemUTC());
        brokerB = new PostgresMetadataStore(url, PostgresProcess.USER, null, Clock.systemUTC());
        threads = Executors.newFixedThreadPool(2 * THREADS_PER_BROKER);
    }

    @AfterEach
    void closeBrokers() throws Exception {
        threads.shutdownNow();
        assertThat(threads.awaitTermination(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
        brokerA.close();
        brokerB.close();
    }

    /** A batch committed by one of the threads, and the outcome it got. */
    private record Committed(BatchAppend batch, String file, AppendOutcome outcome) {
    }

    @Test
    void brokersCommittingToTheSamePartitionsAtOnceGetContiguousOffsetsAndNeverDeadlock() throws Exception {
        Uuid topicId = Uuid.randomUuid();
        brokerA.createTopic(new TopicRecord(topicId, "shared", PARTITIONS, Map.of(), 0));
        List<Callable<List<Committed>>> committers = new ArrayList<>();
        for (int thread = 0; thread < 2 * THREADS_PER_BROKER; thread++) {
            PostgresMetadataStore broker = thread % 2 == 0 ? brokerA : brokerB;
            committers.add(committer(broker, topicId, "wal/" + thread, new Random(thread)));
        }

        List<Committed> committed = new ArrayList<>();
        for (Future<List<Committed>> result : threads.invokeAll(committers, TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            committed.addAll(result.get());
        }

        Map<PartitionKey, List<Committed>> byPartition = new HashMap<>();
        for (Committed one : committed) {
            assertThat(one.outcome().tookNewOffsets()).as("outcome of %s", one).isTrue();
            byPartition.computeIfAbsent(one.batch().partition(), key -> new ArrayList<>()).add(one);
        }
        for (int partition = 0; partition < PARTITIONS; partition++) {
            PartitionKey key = new PartitionKey(topicId, partition);
            List<Committed> batches = byPartition.getOrDefault(key, List.of());
            batches.sort(Comparator.comparingLong(one -> one.outcome().baseOffset()));
            List<BatchLocation> expected = new ArrayList<>();
            long next = 0;
            for (Committed one : batches) {
                assertThat(one.outcome().baseOffset()).as("base offset in %s after %s", key, next).isEqualTo(next);
                long last = next + one.batch().offsetCount() - 1;
                expected.add(new BatchLocation(next, last, one.file(), one.batch().position(), BATCH_SIZE,
                    one.batch().maxTimestamp()));
                next = last + 1;
            }
            assertThat(brokerA.partitionOffsets().get(key)).isEqualTo(new PartitionOffsets(0, next));
            assertThat(brokerB.partitionOffsets().get(key)).isEqualTo(new PartitionOffsets(0, next));
            assertThat(brokerB.batchesFrom(key, 0, Integer.MAX_VALUE)).isEqualTo(expected);
        }
        assertThat(committed).hasSizeGreaterThanOrEqualTo(2 * THREADS_PER_BROKER * COMMITS_PER_THREAD);
    }

    /**
     * Commits WAL objects of one to four batches each, to partitions in random order (so that two
     * commits often touch the same partitions in opposite orders), into a WAL file of its own.
     */
    private static Callable<List<Committed>> committer(PostgresMetadataStore broker, Uuid topicId, String file,
                                                       Random random) {
        return () -> {
            List<Committed> committed = new ArrayList<>();
            long end = 0;
            for (int commit = 0; commit < COMMITS_PER_THREAD; commit++) {
                List<BatchAppend> batches = new ArrayList<>();
                for (int i = 1 + random.nextInt(4); i > 0; i--) {
                    PartitionKey partition = new PartitionKey(topicId, random.nextInt(PARTITIONS));
                    batches.add(plain(partition, end, BATCH_SIZE, 1 + random.nextInt(5)));
                    end += BATCH_SIZE;
                }
                List<AppendOutcome> outcomes = broker.commit(commit == 0 ? first(file, end) : extend(file, end), batches);
                for (int i = 0; i < batches.size(); i++) {
                    committed.add(new Committed(batches.get(i), file, outcomes.get(i)));
                }
            }
            return committed;
        };
    }

    @Test
    void aRetrySentThroughTheOtherBrokerIsADuplicate() {
        PartitionKey partition = newPartition();
        long producerId = brokerA.nextProducerId();

        assertThat(commit(brokerA, first("wal/a", 100), idempotent(partition, 0, producerId, 0, 0, 3)))
            .isEqualTo(AppendOutcome.appended(0, 0));
        assertThat(commit(brokerB, first("wal/b", 100), idempotent(partition, 0, producerId, 0, 0, 3)))
            .isEqualTo(AppendOutcome.duplicateOf(0, 0));
        assertThat(commit(brokerB, extend("wal/b", 200), idempotent(partition, 100, producerId, 0, 3, 1)))
            .isEqualTo(AppendOutcome.appended(3, 0));
        assertThat(commit(brokerA, extend("wal/a", 200), idempotent(partition, 100, producerId, 0, 3, 1)))
            .isEqualTo(AppendOutcome.duplicateOf(3, 0));
        // A new epoch through one broker fences the old epoch on the other.
        assertThat(commit(brokerA, extend("wal/a", 300), idempotent(partition, 200, producerId, 1, 0, 1)))
            .isEqualTo(AppendOutcome.appended(4, 0));
        assertThat(commit(brokerB, extend("wal/b", 300), idempotent(partition, 200, producerId, 0, 4, 1)).failure())
            .isEqualTo(AppendFailure.STALE_PRODUCER_EPOCH);
        assertThat(brokerB.partitionOffsets().get(partition)).isEqualTo(new PartitionOffsets(0, 5));
    }

    @Test
    void aBatchAndItsRetryReachingBothBrokersAtOnceTakeOffsetsOnce() throws Exception {
        PartitionKey partition = newPartition();
        long producerId = brokerB.nextProducerId();
        int rounds = 30;
        CyclicBarrier together = new CyclicBarrier(2);
        List<Future<List<AppendOutcome>>> sent = new ArrayList<>();
        for (PostgresMetadataStore broker : List.of(brokerA, brokerB)) {
            String file = broker == brokerA ? "wal/a" : "wal/b";
            sent.add(threads.submit(() -> {
                List<AppendOutcome> outcomes = new ArrayList<>();
                try {
                    for (int round = 0; round < rounds; round++) {
                        together.await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                        long end = 100L * (round + 1);
                        outcomes.add(commit(broker, round == 0 ? first(file, end) : extend(file, end),
                            idempotent(partition, end - 100, producerId, 0, 2 * round, 2)));
                    }
                } catch (RuntimeException e) {
                    together.reset(); // the other thread stops waiting for this one
                    throw e;
                }
                return outcomes;
            }));
        }
        List<AppendOutcome> throughA = sent.get(0).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        List<AppendOutcome> throughB = sent.get(1).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);

        for (int round = 0; round < rounds; round++) {
            AppendOutcome a = throughA.get(round);
            AppendOutcome b = throughB.get(round);
            assertThat(List.of(a, b)).as("round %d", round).containsExactlyInAnyOrder(
                AppendOutcome.appended(2L * round, 0), AppendOutcome.duplicateOf(2L * round, 0));
        }
        assertThat(brokerA.partitionOffsets().get(partition)).isEqualTo(new PartitionOffsets(0, 2L * rounds));
        assertThat(brokerA.batchesFrom(partition, 0, Integer.MAX_VALUE)).hasSize(rounds);
    }

    @Test
    void producerIdsHandedOutByBothBrokersAtOnceAreUnique() throws Exception {
        int idsPerThread = 50;
        List<Callable<List<Long>>> askers = new ArrayList<>();
        for (int thread = 0; thread < 2 * THREADS_PER_BROKER; thread++) {
            PostgresMetadataStore broker = thread % 2 == 0 ? brokerA : brokerB;
            askers.add(() -> {
                List<Long> ids = new ArrayList<>();
                for (int i = 0; i < idsPerThread; i++) {
                    ids.add(broker.nextProducerId());
                }
                return ids;
            });
        }
        Set<Long> ids = new HashSet<>();
        for (Future<List<Long>> result : threads.invokeAll(askers, TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            ids.addAll(result.get());
        }
        assertThat(ids).hasSize(2 * THREADS_PER_BROKER * idsPerThread);
    }

    @Test
    void aCommitToManyPartitionsReachesTheOtherBrokerInFull() throws Exception {
        // Enough partitions that their next offsets take several notices.
        int partitions = 500;
        Uuid topicId = Uuid.randomUuid();
        brokerA.createTopic(new TopicRecord(topicId, "wide", partitions, Map.of(), 0));
        List<BatchAppend> batches = new ArrayList<>();
        Map<PartitionKey, Long> expected = new HashMap<>();
        for (int partition = 0; partition < partitions; partition++) {
            PartitionKey key = new PartitionKey(topicId, partition);
            batches.add(plain(key, 100L * partition, 100, 1 + partition % 3));
            expected.put(key, 1L + partition % 3);
        }
        Map<PartitionKey, Long> noticed = new ConcurrentHashMap<>();
        CountDownLatch listening = new CountDownLatch(1);
        AutoCloseable following = brokerB.followCommits(offsets -> {
            if (listening.getCount() > 0) {
                listening.countDown(); // every partition's next offset, once listening has begun
            } else {
                noticed.putAll(offsets);
            }
        });
        try {
            assertThat(listening.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
            brokerA.commit(first("wal/wide", 100L * partitions), batches);
            await().atMost(Duration.ofSeconds(TIMEOUT_SECONDS)).until(() -> noticed.equals(expected));
        } finally {
            following.close();
        }
    }

    private PartitionKey newPartition() {
        Uuid topicId = Uuid.randomUuid();
        brokerA.createTopic(new TopicRecord(topicId, "retried", 1, Map.of(), 0));
        return new PartitionKey(topicId, 0);
    }

    private static AppendOutcome commit(PostgresMetadataStore broker, WalWrite written,
                                        BatchAppend batch) {
        return broker.commit(written, List.of(batch)).get(0);
    }
}
