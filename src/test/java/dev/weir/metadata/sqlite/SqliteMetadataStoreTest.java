package dev.weir.metadata.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.weir.metadata.AppendOutcome;
import dev.weir.metadata.BatchAppend;
import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.MetadataException;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.TopicRecord;
import dev.weir.metadata.WalWrite;
import dev.weir.testing.SmallFileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class SqliteMetadataStoreTest {
    private static final int COMMITS_PER_ROUND = 200;
    private static final int ROUNDS = 5;

    @TempDir
    Path dir;

    /**
     * A producer sending one record at a time commits a WAL object every millisecond or so, with no
     * pause in which a checkpoint could catch up on its own: SQLite's WAL file must still start over
     * after each checkpoint instead of growing by every commit.
     */
    @Test
    void theWalFileStartsOverAfterEachCheckpointUnderASteadyStreamOfCommits() throws Exception {
        Path database = dir.resolve("metadata.db");
        Path wal = dir.resolve("metadata.db-wal");
        try (SqliteMetadataStore store = new SqliteMetadataStore(database, Clock.systemUTC())) {
            Uuid topicId = Uuid.randomUuid();
            store.createTopic(new TopicRecord(topicId, "steady", 1, Map.of(), 0));
            PartitionKey partition = new PartitionKey(topicId, 0);
            store.checkpoint();
            int restartsBefore = walRestarts(wal);
            AtomicInteger commits = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            CompletableFuture<Void> committer = CompletableFuture.runAsync(() -> {
                long position = 0;
                while (!stop.get()) {
                    BatchAppend batch = new BatchAppend(partition, position, 1024, 1, 0, -1, (short) -1, -1);
                    position += 4096;
                    List<AppendOutcome> outcomes = store.commit(new WalWrite("wal/1", position, position == 4096, false),
                        List.of(batch));
                    assertThat(outcomes.get(0).failure()).isNull();
                    commits.incrementAndGet();
                }
            });
            for (int round = 1; round <= ROUNDS; round++) {
                // Counted from where the last checkpoint left off: commits go on during a checkpoint's first pass,
                // and a checkpoint with nothing committed since the one before has nothing to start over.
                awaitMoreCommits(commits, COMMITS_PER_ROUND, committer);
                store.checkpoint();
            }
            // The commit after the last checkpoint starts the WAL over once more. The count goes up only after a
            // commit returns, so the next one counted may have committed before the checkpoint; the one after it
            // began after the count was read, so after the checkpoint.
            awaitMoreCommits(commits, 2, committer);
            stop.set(true);
            committer.join();
            // Once after the checkpoint before the commits began, and once after each of the rounds'.
            assertThat(walRestarts(wal) - restartsBefore).isGreaterThanOrEqualTo(ROUNDS + 1);
        }
    }

    /**
     * SQLite rolls a transaction back by itself when the disk is full. The store must then begin its next
     * transaction as after any rollback: otherwise the next commit's statements each commit on their own,
     * and the commit reports a failure although its rows are there.
     */
    @Test
    void aCommitRefusedForWantOfRoomLeavesNothingAndTheNextOneIsWholeOnceThereIsRoom() throws Exception {
        Path mountPoint = Files.createDirectories(dir.resolve("small"));
        try (SmallFileSystem disk = SmallFileSystem.mount(mountPoint, 4);
             SqliteMetadataStore store = new SqliteMetadataStore(disk.path().resolve("metadata.db"), Clock.systemUTC())) {
            Uuid topicId = Uuid.randomUuid();
            store.createTopic(new TopicRecord(topicId, "full", 1, Map.of(), 0));
            PartitionKey partition = new PartitionKey(topicId, 0);
            Path filler = disk.fill("filler");
            long committed = commitUntilRefused(store, partition);
            Files.delete(filler);

            assertThat(commitOneRecord(store, partition, committed).baseOffset()).as("offset of the next commit")
                .isEqualTo(committed);
            assertThat(store.batchesFrom(partition, 0, Integer.MAX_VALUE)).as("batches")
                .extracting(BatchLocation::baseOffset).hasSize((int) committed + 1).doesNotHaveDuplicates();
            assertThat(store.partitionOffsets().get(partition).nextOffset()).isEqualTo(committed + 1);
        }
    }

    /**
     * While the disk is full every checkpoint fails; the log says so once, not every second, and once
     * more when a checkpoint succeeds again. The commit before the disk fills makes SQLite's WAL file
     * large, so the commit after it fits in there while the database file cannot grow by its rows.
     */
    @Test
    void aCheckpointFailingForWantOfRoomIsLoggedOnceUntilOneSucceeds() throws Exception {
        Path mountPoint = Files.createDirectories(dir.resolve("small"));
        Logger logger = (Logger) LoggerFactory.getLogger(SqliteMetadataStore.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        logger.addAppender(logged);
        try (SmallFileSystem disk = SmallFileSystem.mount(mountPoint, 4);
             SqliteMetadataStore store = new SqliteMetadataStore(disk.path().resolve("metadata.db"), Clock.systemUTC())) {
            Uuid topicId = Uuid.randomUuid();
            store.createTopic(new TopicRecord(topicId, "full", 1, Map.of(), 0));
            PartitionKey partition = new PartitionKey(topicId, 0);
            store.commit(new WalWrite("wal/1", 4000 * 4096L, true, true), batches(partition, 0, 4000));
            store.checkpoint();
            Path filler = disk.fill("filler");
            store.commit(new WalWrite("wal/1", 5000 * 4096L, false, true), batches(partition, 4000, 1000));
            for (int i = 0; i < 3; i++) {
                store.checkpoint();
            }
            assertThat(messages(logged, Level.WARN)).as("warnings").hasSize(1).allMatch(line -> line.contains("checkpoint"));
            Files.delete(filler);
            store.checkpoint();
            assertThat(messages(logged, Level.INFO)).as("notes").containsExactly("SQLite checkpoints succeed again");
            assertThat(messages(logged, Level.WARN)).as("warnings").hasSize(1);
        } finally {
            logger.detachAppender(logged);
        }
    }

    private static List<String> messages(ListAppender<ILoggingEvent> logged, Level level) {
        synchronized (logged.list) {
            return logged.list.stream().filter(event -> event.getLevel() == level)
                .map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    /** {@code count} one-record batches, the {@code first}th and after of WAL file "wal/1". */
    private static List<BatchAppend> batches(PartitionKey partition, int first, int count) {
        List<BatchAppend> batches = new java.util.ArrayList<>(count);
        for (int i = first; i < first + count; i++) {
            batches.add(new BatchAppend(partition, i * 4096L, 1024, 1, 0, -1, (short) -1, -1));
        }
        return batches;
    }

    /** Commits one-record objects until one is refused for want of room; returns how many were committed. */
    private static long commitUntilRefused(SqliteMetadataStore store, PartitionKey partition) {
        long committed = 0;
        while (true) {
            assertThat(committed).as("commits before the disk is full").isLessThan(100_000);
            try {
                commitOneRecord(store, partition, committed);
                committed++;
            } catch (MetadataException refused) {
                assertThat(refused).hasStackTraceContaining("SQLITE_FULL");
                return committed;
            }
        }
    }

    /** Commits a WAL object of one one-record batch, the {@code index}th of WAL file "wal/1", synced. */
    private static AppendOutcome commitOneRecord(SqliteMetadataStore store, PartitionKey partition, long index) {
        BatchAppend batch = new BatchAppend(partition, index * 4096, 1024, 1, 0, -1, (short) -1, -1);
        AppendOutcome outcome = store.commit(new WalWrite("wal/1", (index + 1) * 4096, index == 0, true), List.of(batch))
            .get(0);
        assertThat(outcome.failure()).isNull();
        return outcome;
    }

    /** Waits until {@code more} commits are counted beyond the count now, or the committer has stopped. */
    private static void awaitMoreCommits(AtomicInteger commits, int more, CompletableFuture<Void> committer) {
        int target = commits.get() + more;
        while (commits.get() < target && !committer.isDone()) {
            Thread.onSpinWait();
        }
    }

    /** The checkpoint sequence number in the WAL file's header, which SQLite counts up each time it starts the WAL over. */
    private static int walRestarts(Path wal) throws java.io.IOException {
        byte[] header = new byte[16];
        try (java.io.InputStream in = Files.newInputStream(wal)) {
            assertThat(in.readNBytes(header, 0, header.length)).isEqualTo(header.length);
        }
        return java.nio.ByteBuffer.wrap(header).getInt(12);
    }
}
