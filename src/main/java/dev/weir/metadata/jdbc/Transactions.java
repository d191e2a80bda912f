package dev.weir.metadata.jdbc;

import dev.weir.metadata.MetadataException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.Consumer;

/**
 * Where the roles' statements run: each piece of work in a transaction of its own, on a connection the
 * backend chooses (SQLite: its one writer connection or one of its readers; PostgreSQL: one from its
 * pool). The backend maps its database's errors, once, to {@link MetadataException}s. Thread-safe.
 */
public interface Transactions {
    /** Statements run on a connection inside a transaction, and what they read. */
    interface Work<T> {
        T apply(Connection connection) throws SQLException;
    }

    /** Runs a read in a transaction of its own; {@code what} names it in the message of a failure. */
    <T> T read(String what, Work<T> work);

    /** Runs a write in one transaction, committed and durable when this returns, rolled back if it throws. */
    <T> T write(String what, Work<T> work);

    /**
     * As {@link #write(String, Work)}, then hands the result to {@code committed}, which brings what the
     * backend keeps in memory in step with the commit. Where the backend owns such state (SQLite), no
     * other write of the store runs between the commit and {@code committed}.
     */
    <T> T write(String what, Work<T> work, Consumer<T> committed);
}
