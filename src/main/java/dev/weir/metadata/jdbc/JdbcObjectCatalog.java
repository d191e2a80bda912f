package dev.weir.metadata.jdbc;

import dev.weir.metadata.ObjectCatalog;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The object catalog, on either database. Thread-safe; on PostgreSQL several brokers may collect
 * garbage at once.
 *
 * <p>There, at READ COMMITTED, a statement that waited for a row another transaction changed re-checks
 * only that row, and sees other tables as they were when it began. So a statement that both waits for
 * an object's row and asks whether batches refer to it may miss the batches that the transaction it
 * waited for added (a commit extending the WAL file). Hence both writes here ask in a statement of their
 * own, begun after the object's row is theirs. Where one writer at a time runs (SQLite) those extra
 * statements find nothing to change.
 */
public final class JdbcObjectCatalog implements ObjectCatalog {
    /** The key of the lock under which one broker at a time marks unreferenced objects. */
    private static final long MARKING_LOCK = 0x5765697247634d61L;

    private final Transactions database;
    private final Dialect dialect;

    public JdbcObjectCatalog(Transactions database, Dialect dialect) {
        this.database = database;
        this.dialect = dialect;
    }

    @Override
    public long objectSize(String objectKey) {
        return database.read("read the size of " + objectKey, connection -> {
            try (PreparedStatement select = connection.prepareStatement("SELECT size FROM objects WHERE object_key = ?")) {
                select.setString(1, objectKey);
                try (ResultSet rows = select.executeQuery()) {
                    return rows.next() ? rows.getLong(1) : -1L;
                }
            }
        });
    }

    @Override
    public List<String> unreferencedObjects(long nowMs, long cutoffMs) {
        return database.write("mark unreferenced objects", connection -> {
            // Brokers marking at once would lock many object rows each, in no particular order.
            dialect.lockForTransaction(connection, MARKING_LOCK);
            try (PreparedStatement mark = connection.prepareStatement(
                "UPDATE objects SET unreferenced_since_ms = ? WHERE unreferenced_since_ms IS NULL"
                    + " AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.object_key = objects.object_key)")) {
                mark.setLong(1, nowMs);
                mark.executeUpdate();
            }
            try (Statement unmark = connection.createStatement()) {
                // What the marking waited for may have given an object batches it could not see (see above).
                unmark.executeUpdate("UPDATE objects SET unreferenced_since_ms = NULL"
                    + " WHERE unreferenced_since_ms IS NOT NULL"
                    + " AND EXISTS (SELECT 1 FROM batches b WHERE b.object_key = objects.object_key)");
            }
            List<String> deletable = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT object_key FROM objects WHERE unreferenced_since_ms <= ? ORDER BY object_key")) {
                select.setLong(1, cutoffMs);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        deletable.add(rows.getString(1));
                    }
                }
            }
            return deletable;
        });
    }

    @Override
    public boolean forgetObject(String objectKey) {
        return database.write("forget object " + objectKey, connection -> {
            try (PreparedStatement lock = connection.prepareStatement(
                "SELECT 1 FROM objects WHERE object_key = ?" + dialect.lockingClause())) {
                lock.setString(1, objectKey);
                try (ResultSet rows = lock.executeQuery()) {
                    if (!rows.next()) {
                        return false;
                    }
                }
            }
            int deleted;
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM objects WHERE object_key = ?"
                + " AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.object_key = objects.object_key)")) {
                delete.setString(1, objectKey);
                deleted = delete.executeUpdate();
            }
            if (deleted == 1) {
                try (PreparedStatement delete = connection.prepareStatement("DELETE FROM segments WHERE object_key = ?")) {
                    delete.setString(1, objectKey);
                    delete.executeUpdate();
                }
            }
            return deleted == 1;
        });
    }

    /**
     * All of them in one transaction, each as {@link #forgetObject} does: the objects' rows are locked in key
     * order (so that brokers collecting at once never deadlock), and those no batch refers to deleted, in a
     * statement of its own as above.
     */
    @Override
    public List<String> forgetObjects(List<String> objectKeys) {
        if (objectKeys.isEmpty()) {
            return List.of();
        }
        List<String> sorted = objectKeys.stream().sorted().distinct().toList();
        Set<String> deleted = database.write("forget " + sorted.size() + " objects", connection -> {
            Set<String> forgotten = new HashSet<>();
            try (PreparedStatement lock = connection.prepareStatement(
                     "SELECT 1 FROM objects WHERE object_key = ?" + dialect.lockingClause());
                 PreparedStatement delete = connection.prepareStatement("DELETE FROM objects WHERE object_key = ?"
                     + " AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.object_key = objects.object_key)");
                 PreparedStatement deleteSegment = connection.prepareStatement("DELETE FROM segments WHERE object_key = ?")) {
                for (String objectKey : sorted) {
                    lock.setString(1, objectKey);
                    try (ResultSet rows = lock.executeQuery()) {
                        if (!rows.next()) {
                            continue;
                        }
                    }
                    delete.setString(1, objectKey);
                    if (delete.executeUpdate() == 1) {
                        deleteSegment.setString(1, objectKey);
                        deleteSegment.executeUpdate();
                        forgotten.add(objectKey);
                    }
                }
            }
            return forgotten;
        });
        return objectKeys.stream().filter(deleted::contains).distinct().toList();
    }

    @Override
    public Set<String> committedObjectKeys() {
        return database.read("list committed objects", connection -> {
            Set<String> keys = new HashSet<>();
            try (Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT object_key FROM objects")) {
                while (rows.next()) {
                    keys.add(rows.getString(1));
                }
            }
            return keys;
        });
    }
}
