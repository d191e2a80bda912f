package dev.weir.metadata.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.weir.metadata.MetadataException;
import dev.weir.metadata.jdbc.Transactions;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.Consumer;
import javax.sql.DataSource;

/**
 * A broker's bounded pool of connections to the shared PostgreSQL database, and the one place where
 * work runs in transactions and PostgreSQL's errors become {@link MetadataException}s. Thread-safe.
 *
 * <p>Every piece of work runs in its own transaction at READ COMMITTED, PostgreSQL's default: what
 * must not interleave with other brokers' work takes row locks ({@code SELECT ... FOR UPDATE}) and
 * reads what it decides on after taking them, so each statement after a lock sees the latest commits.
 * Commits are durable when they return ({@code synchronous_commit} is left on).
 */
final class Database implements Transactions, AutoCloseable {
    /** Connections per broker: commits, reads and background work share them. */
    static final int POOL_SIZE = 8;
    /** How long work waits for a free connection, or for a new one to open, before it fails. */
    static final long CONNECTION_TIMEOUT_MS = 10_000;
    /** How long a connection's check (when it was idle for a while) may take before it is dropped. */
    static final long VALIDATION_TIMEOUT_MS = 5_000;
    /** Connections are replaced after this long, so that none outlives a failover or a server's limits. */
    static final long MAX_LIFETIME_MS = 30 * 60_000;
    /** An idle connection is checked this often, which keeps firewalls from dropping it silently. */
    static final long KEEPALIVE_MS = 2 * 60_000;
    /** How long one network read may block: a server that stopped answering fails the work, not the broker. */
    static final int SOCKET_TIMEOUT_SECONDS = 60;
    static final String POOL_NAME = "weir-metadata";

    private final HikariDataSource pool;

    Database(String jdbcUrl, String user, String password) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(POOL_NAME);
        config.setJdbcUrl(jdbcUrl);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(POOL_SIZE);
        config.setMinimumIdle(1);
        config.setConnectionTimeout(CONNECTION_TIMEOUT_MS);
        config.setValidationTimeout(VALIDATION_TIMEOUT_MS);
        config.setMaxLifetime(MAX_LIFETIME_MS);
        config.setKeepaliveTime(KEEPALIVE_MS);
        config.setAutoCommit(false);
        config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        // Batches of inserts go as multi-row statements: a commit inserts one row per batch it indexes.
        config.addDataSourceProperty("reWriteBatchedInserts", "true");
        config.addDataSourceProperty("socketTimeout", Integer.toString(SOCKET_TIMEOUT_SECONDS));
        config.addDataSourceProperty("connectTimeout", Long.toString(CONNECTION_TIMEOUT_MS / 1000));
        config.addDataSourceProperty("ApplicationName", "weir");
        // Fail at once when the database is unreachable: a broker must not start without its metadata.
        config.setInitializationFailTimeout(CONNECTION_TIMEOUT_MS);
        try {
            pool = new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw new MetadataException("cannot connect to the metadata database: " + e.getMessage(), e);
        }
    }

    DataSource dataSource() {
        return pool;
    }

    /** Runs a read in a read-only transaction of its own. */
    @Override
    public <T> T read(String what, Work<T> work) {
        return inTransaction(what, true, work);
    }

    /** Runs a write in one transaction, committed when the work returns and rolled back if it throws. */
    @Override
    public <T> T write(String what, Work<T> work) {
        return inTransaction(what, false, work);
    }

    /** Nothing of the database is kept in memory here: {@code committed} just follows the commit. */
    @Override
    public <T> T write(String what, Work<T> work, Consumer<T> committed) {
        T result = write(what, work);
        committed.accept(result);
        return result;
    }

    private <T> T inTransaction(String what, boolean readOnly, Work<T> work) {
        try (Connection connection = pool.getConnection()) {
            if (readOnly) {
                connection.setReadOnly(true); // reset by the pool when the connection comes back
            }
            try {
                T result = work.apply(connection);
                connection.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                rollBack(connection, e);
                throw e;
            }
        } catch (SQLException e) {
            throw translate(what, e);
        }
    }

    private static void rollBack(Connection connection, Exception cause) {
        try {
            connection.rollback();
        } catch (SQLException rollbackFailure) {
            cause.addSuppressed(rollbackFailure);
        }
    }

    /**
     * The one mapping of PostgreSQL's errors: every one is a {@link MetadataException}, whose message
     * carries the SQLSTATE (class 08: the connection failed; 40: the transaction was aborted, for a
     * deadlock or a serialization failure; 57: the server is shutting down or restarting).
     */
    static MetadataException translate(String what, SQLException e) {
        return new MetadataException("metadata database failed to " + what + " (SQLSTATE " + e.getSQLState() + "): "
            + e.getMessage(), e);
    }

    @Override
    public void close() {
        pool.close();
    }
}
