package dev.weir.metadata.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.weir.metadata.MetadataException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connections of the SQLite database: every one is closed when the database closes, whatever else
 * fails or runs meanwhile, and when opening it fails half-way. A connection left open is seen as a file
 * descriptor of this process still open on the database's files.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SqliteDatabaseTest {
    @TempDir
    Path dir;

    /**
     * Closing on an interrupted thread while a checkpoint runs: the close waits for the checkpoint to end
     * and then closes its connection too, and the interrupt is kept for the caller.
     */
    @Test
    void closingOnAnInterruptedThreadWaitsForTheCheckpointAndClosesEveryConnection() throws Exception {
        Path file = dir.resolve("metadata.db");
        SqliteDatabase database = new SqliteDatabase(file);
        AtomicBoolean interruptKept = new AtomicBoolean();
        Thread closing = new Thread(() -> {
            Thread.currentThread().interrupt();
            database.close();
            interruptKept.set(Thread.currentThread().isInterrupted());
        }, "closing");
        synchronized (database) {
            // A checkpoint's second pass waits for the monitor that writes hold: a checkpoint in progress.
            await().atMost(Duration.ofSeconds(30)).until(SqliteDatabaseTest::aCheckpointWaitsForTheMonitor);
            closing.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> closing.getState() != Thread.State.NEW
                && closing.getState() != Thread.State.RUNNABLE);
        }
        closing.join();

        assertThat(interruptKept).isTrue();
        assertThat(descriptorsOpenOn(file)).isEmpty();
    }

    private static boolean aCheckpointWaitsForTheMonitor() {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(thread ->
            thread.getName().equals(SqliteDatabase.CHECKPOINT_THREAD) && thread.getState() == Thread.State.BLOCKED);
    }

    @Test
    void readsRunningOrWaitingWhenTheDatabaseClosesLeaveNoConnectionOpen() throws Exception {
        Path file = dir.resolve("metadata.db");
        SqliteDatabase database = new SqliteDatabase(file);
        ExecutorService threads = Executors.newFixedThreadPool(SqliteDatabase.READ_CONNECTIONS + 1);
        try {
            CountDownLatch running = new CountDownLatch(SqliteDatabase.READ_CONNECTIONS);
            CountDownLatch release = new CountDownLatch(1);
            List<Future<Integer>> reads = new ArrayList<>();
            for (int i = 0; i < SqliteDatabase.READ_CONNECTIONS; i++) {
                reads.add(threads.submit(() -> database.read("hold a connection", connection -> {
                    running.countDown();
                    awaitUninterruptibly(release);
                    return 1;
                })));
            }
            running.await();
            Future<Integer> waiting = threads.submit(() -> database.read("wait for a connection", connection -> 1));

            database.close();

            assertThatThrownBy(() -> waiting.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(MetadataException.class);
            release.countDown();
            for (Future<Integer> read : reads) {
                assertThat(read.get()).isEqualTo(1);
            }
            assertThatThrownBy(() -> database.read("read after closing", connection -> 1))
                .isInstanceOf(MetadataException.class);
            assertThat(descriptorsOpenOn(file)).isEmpty();
        } finally {
            threads.shutdownNow();
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        while (true) {
            try {
                latch.await();
                return;
            } catch (InterruptedException e) {
                // The test's end interrupts its threads; a read holds its connection until released.
            }
        }
    }

    /** A store whose stored state cannot be loaded fails to open, and leaves nothing of itself behind. */
    @Test
    void aStoreThatFailsToOpenClosesTheConnectionsItOpened() throws Exception {
        Path file = dir.resolve("metadata.db");
        new SqliteMetadataStore(file, Clock.systemUTC()).close();
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement statement = connection.createStatement()) {
            statement.executeUpdate("INSERT INTO producer_state (producer_id, topic_id, partition, epoch, batches,"
                + " updated_ms) VALUES (7, '" + Uuid.randomUuid() + "', 0, 0, 'not sequences', 0)");
        }

        assertThatThrownBy(() -> new SqliteMetadataStore(file, Clock.systemUTC()))
            .isInstanceOf(MetadataException.class).hasMessageContaining("corrupt producer state");

        assertThat(descriptorsOpenOn(file)).isEmpty();
    }

    /** This process's open file descriptors on the database file, its WAL or its shared memory. */
    static List<String> descriptorsOpenOn(Path file) throws IOException {
        String path = file.toRealPath().toString();
        List<String> open = new ArrayList<>();
        try (Stream<Path> descriptors = Files.list(Path.of("/proc/self/fd"))) {
            for (Path descriptor : descriptors.toList()) {
                try {
                    String target = Files.readSymbolicLink(descriptor).toString();
                    if (target.startsWith(path)) {
                        open.add(target);
                    }
                } catch (IOException closedMeanwhile) {
                    // The descriptor of the listing itself, or one closed since: not the database's.
                }
            }
        }
        return open;
    }
}
