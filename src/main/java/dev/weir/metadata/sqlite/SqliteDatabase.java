package dev.weir.metadata.sqlite;

import dev.weir.metadata.MetadataException;
import dev.weir.metadata.jdbc.Transactions;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * The connections to one SQLite file in WAL mode, shared by the store's roles: a single writer
 * connection, a small pool of read-only connections, and a connection on its own thread that
 * checkpoints the WAL every second.
 *
 * <p>Thread-safe. Writes are serialised on this object's monitor: {@link #write} takes it, and a role
 * that must keep its in-memory state in step with a write holds it around both. Reads run concurrently,
 * each on a pooled connection. Once {@link #close} has begun, reads fail with a {@link MetadataException}
 * (and writes too, once it has closed the writer); a read that holds a connection then closes it as it ends.
 */
final class SqliteDatabase implements Transactions, AutoCloseable {
    /** Checkpoint messages keep the store's logger name, the one operators know. */
    private static final Logger LOG = LoggerFactory.getLogger(SqliteMetadataStore.class);
    static final int READ_CONNECTIONS = 4;
    static final String CHECKPOINT_THREAD = "weir-sqlite-checkpoint";
    private static final long CHECKPOINT_INTERVAL_MS = 1000;
    /** How long closing waits for a checkpoint in progress before it closes the connection beneath it. */
    private static final long CLOSE_WAIT_MS = 10_000;

    private final Connection writer;
    private final Map<String, PreparedStatement> commitStatements = new HashMap<>();
    private final Connection checkpointer;
    private final ScheduledExecutorService checkpoints;
    /** The read-only connections not in use; guarded by itself, as {@link #closed} is. */
    private final Deque<Connection> idleReaders = new ArrayDeque<>(READ_CONNECTIONS);
    /** Whether closing has begun: reads fail instead of waiting for a connection, which none gives back. */
    private boolean closed;
    /** Whether the last checkpoint failed, so that a failing one is logged once until one succeeds. */
    private final AtomicBoolean checkpointFailing = new AtomicBoolean();
    /** The writer connection's synchronous setting: FULL (true) or NORMAL; guarded by the monitor. */
    private boolean synced = true;

    /** Work on the writer connection, inside the transaction {@link #write} commits. */
    interface SqlWork {
        void run(Connection writer) throws SQLException;
    }

    /**
     * Migrates the file's schema and opens the connections; the checkpoints begin a second later. If a
     * connection fails to open, those opened before it are closed.
     */
    SqliteDatabase(Path file) throws SQLException {
        String url = "jdbc:sqlite:" + file.toAbsolutePath();
        Flyway.configure().dataSource(url, null, null).locations("classpath:db/migration/sqlite")
            .loggers("slf4j").load().migrate();
        List<Connection> opened = new ArrayList<>();
        try {
            writer = open(opened, writerConfig(), url);
            writer.setAutoCommit(false);
            for (int i = 0; i < READ_CONNECTIONS; i++) {
                SQLiteConfig readConfig = new SQLiteConfig();
                readConfig.setReadOnly(true);
                readConfig.setBusyTimeout(30_000);
                idleReaders.add(open(opened, readConfig, url));
            }
            SQLiteConfig checkpointConfig = new SQLiteConfig();
            checkpointConfig.setBusyTimeout(30_000);
            checkpointer = open(opened, checkpointConfig, url);
        } catch (SQLException | RuntimeException e) {
            MetadataException closeFailure = null;
            for (Connection connection : opened) {
                closeFailure = closeCollecting(connection, closeFailure);
            }
            if (closeFailure != null) {
                e.addSuppressed(closeFailure);
            }
            throw e;
        }
        checkpoints = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, CHECKPOINT_THREAD);
            thread.setDaemon(true);
            return thread;
        });
        checkpoints.scheduleWithFixedDelay(this::checkpoint, CHECKPOINT_INTERVAL_MS, CHECKPOINT_INTERVAL_MS,
            TimeUnit.MILLISECONDS);
    }

    private static SQLiteConfig writerConfig() {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        // Checkpoints run on their own connection and thread (below), not inside a commit that a
        // producer is waiting for; the WAL file is cut back to this size after each.
        config.setPragma(SQLiteConfig.Pragma.WAL_AUTOCHECKPOINT, "0");
        config.setPragma(SQLiteConfig.Pragma.JOURNAL_SIZE_LIMIT, Long.toString(64L * 1024 * 1024));
        config.setBusyTimeout(30_000);
        return config;
    }

    /** Opens a connection and adds it to {@code opened}, for closing should a later one fail to open. */
    private static Connection open(List<Connection> opened, SQLiteConfig config, String url) throws SQLException {
        Connection connection = config.createConnection(url);
        opened.add(connection);
        return connection;
    }

    /**
     * Runs start-up work on the writer connection, before the store is shared, and commits it. Failures
     * are the caller's to report, as a database that cannot be opened.
     */
    <T> T initialize(Work<T> work) throws SQLException {
        T result = work.apply(writer);
        writer.commit();
        return result;
    }

    /** Runs the work in one transaction on the writer connection, synced. */
    void write(SqlWork work) {
        write(true, work);
    }

    @Override
    public <T> T write(String what, Work<T> work) {
        return inWriteTransaction(true, what, work);
    }

    /** As {@link #write(String, Work)}, and {@code committed} runs before the monitor is let go. */
    @Override
    public synchronized <T> T write(String what, Work<T> work, Consumer<T> committed) {
        T result = inWriteTransaction(true, what, work);
        committed.accept(result);
        return result;
    }

    /**
     * Runs the work in one transaction on the writer connection, holding the monitor. With {@code sync}
     * the transaction is on disk when this returns (synchronous=FULL), otherwise it is in the operating
     * system's hands (NORMAL: safe from a process crash, and made durable by the next synced transaction
     * or checkpoint).
     */
    void write(boolean sync, SqlWork work) {
        inWriteTransaction(sync, "write", writer -> {
            work.run(writer);
            return null;
        });
    }

    private synchronized <T> T inWriteTransaction(boolean sync, String what, Work<T> work) {
        try {
            if (sync != synced) {
                // The setting may not change inside a transaction, and the driver keeps one open between
                // commits while auto-commit is off: leave it (it is empty here) for the change.
                writer.setAutoCommit(true);
                try (Statement pragma = writer.createStatement()) {
                    pragma.execute(sync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
                } finally {
                    writer.setAutoCommit(false);
                }
                synced = sync;
            }
            T result = work.apply(writer);
            writer.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            try {
                rollBack();
                // A failure between addBatch and executeBatch must not leave rows for the next commit.
                for (PreparedStatement statement : commitStatements.values()) {
                    statement.clearBatch();
                }
            } catch (SQLException rollbackFailure) {
                e.addSuppressed(rollbackFailure);
            }
            if (e instanceof MetadataException metadataException) {
                throw metadataException;
            }
            throw new MetadataException("metadata database failed to " + what + ": " + e.getMessage(), e);
        }
    }

    /**
     * Rolls the writer's transaction back and begins the next one, as the driver does after every commit
     * and rollback. SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR,
     * SQLITE_NOMEM); the driver's rollback then fails for want of a transaction and never begins the
     * next, and the next work would run statement by statement, each committed on its own even where
     * the work as a whole fails. Hence the BEGIN here.
     */
    private void rollBack() throws SQLException {
        try {
            writer.rollback();
        } catch (SQLException rollbackFailure) {
            try (Statement begin = writer.createStatement()) {
                begin.execute("BEGIN");
            } catch (SQLException stillInTransaction) {
                rollbackFailure.addSuppressed(stillInTransaction);
                throw rollbackFailure;
            }
        }
    }

    /**
     * A statement of the commit path, prepared once on the writer connection and kept until the database
     * closes; a failed write clears its pending batch. For use inside {@link #write} work only.
     */
    PreparedStatement commitStatement(String sql) throws SQLException {
        PreparedStatement statement = commitStatements.get(sql);
        if (statement == null) {
            statement = writer.prepareStatement(sql);
            commitStatements.put(sql, statement);
        }
        return statement;
    }

    /** As {@link #read(String, Work)}, for work that does not name itself. */
    <T> T read(Work<T> work) {
        return read("read", work);
    }

    /** Runs the work on a read-only connection, waiting for one if all are in use. */
    @Override
    public <T> T read(String what, Work<T> work) {
        Connection connection = takeReader();
        try {
            return work.apply(connection);
        } catch (SQLException e) {
            throw new MetadataException("metadata database failed to " + what + ": " + e.getMessage(), e);
        } finally {
            giveBack(connection);
        }
    }

    private Connection takeReader() {
        synchronized (idleReaders) {
            while (idleReaders.isEmpty() && !closed) {
                try {
                    idleReaders.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new MetadataException("interrupted while waiting for a database connection", e);
                }
            }
            if (closed) {
                throw new MetadataException("the metadata database is closed");
            }
            return idleReaders.pop();
        }
    }

    /** Puts a read connection back for the next read, or closes it if the database closed meanwhile. */
    private void giveBack(Connection connection) {
        synchronized (idleReaders) {
            if (!closed) {
                idleReaders.push(connection);
                idleReaders.notify();
                return;
            }
        }
        try {
            connection.close();
        } catch (SQLException e) {
            LOG.warn("Closing a read connection of the closed metadata database failed", e);
        }
    }

    /**
     * Copies committed pages from the WAL into the database file, so that the next commit can write
     * the WAL from its start again. SQLite starts it over only when a checkpoint has caught up with
     * the last commit, which a checkpoint running beside a steady stream of commits (a producer sending
     * one record at a time commits every millisecond) never does: the WAL then grew by every commit,
     * without bound. So the bulk is copied without blocking anyone, then what was committed meanwhile
     * (a few pages, or none) while commits wait.
     */
    void checkpoint() {
        try (Statement statement = checkpointer.createStatement()) {
            statement.execute("PRAGMA wal_checkpoint(PASSIVE)");
            synchronized (this) {
                statement.execute("PRAGMA wal_checkpoint(PASSIVE)");
            }
            if (checkpointFailing.compareAndSet(true, false)) {
                LOG.info("SQLite checkpoints succeed again");
            }
        } catch (SQLException e) {
            // A full disk fails every checkpoint until room is freed: said once, not every second.
            if (checkpointFailing.compareAndSet(false, true)) {
                LOG.warn("SQLite checkpoint failed; it is retried every second, and said again once it succeeds", e);
            } else {
                LOG.debug("SQLite checkpoint failed again", e);
            }
        }
    }

    /**
     * Closes every connection, each even if closing another failed (the first failure is thrown, with the
     * others suppressed by it), after the checkpoint in progress, if any, ends (waiting even when
     * interrupted, whose flag is then set again). Reads waiting for a connection fail; reads running
     * close theirs as they end. Closing again does nothing more.
     */
    @Override
    public void close() {
        List<Connection> idle;
        synchronized (idleReaders) {
            closed = true;
            idle = new ArrayList<>(idleReaders);
            idleReaders.clear();
            idleReaders.notifyAll();
        }
        boolean interrupted = awaitCheckpoints();
        MetadataException failure = closeCollecting(checkpointer, null);
        synchronized (this) {
            for (PreparedStatement statement : commitStatements.values()) {
                failure = closeCollecting(statement, failure);
            }
            failure = closeCollecting(writer, failure);
        }
        for (Connection reader : idle) {
            failure = closeCollecting(reader, failure);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Stops the checkpoints and waits for one in progress to end; returns whether this thread was interrupted. */
    private boolean awaitCheckpoints() {
        checkpoints.shutdownNow();
        boolean interrupted = false;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MS);
        while (true) {
            try {
                if (!checkpoints.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
                    LOG.warn("A checkpoint still runs after {} ms; its connection is closed beneath it", CLOSE_WAIT_MS);
                }
                return interrupted;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
    }

    /** Closes the resource; a failure becomes {@code failure}, or is suppressed by the one before it. */
    private static MetadataException closeCollecting(AutoCloseable resource, MetadataException failure) {
        try {
            resource.close();
            return failure;
        } catch (Exception e) {
            if (failure == null) {
                return new MetadataException("closing the metadata database failed", e);
            }
            failure.addSuppressed(e);
            return failure;
        }
    }
}
