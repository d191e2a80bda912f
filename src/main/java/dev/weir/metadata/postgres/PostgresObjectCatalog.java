package dev.weir.metadata.postgres;

import dev.weir.metadata.ObjectCatalog;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The object catalog on PostgreSQL. Thread-safe; several brokers may collect garbage at once.
 *
 * <p>At READ COMMITTED a statement that waited for a row another transaction changed re-checks only
 * that row, and sees other tables as they were when it began. So a statement that both waits for an
 * object's row and asks whether batches refer to it may miss the batches that the transaction it waited
 * for added (a commit extending the WAL file). Hence both methods here ask in a statement of their
 * own, begun after the object's row is theirs.
 */
final class PostgresObjectCatalog implements ObjectCatalog {
    /** The key of the advisory lock under which one broker at a time marks unreferenced objects. */
    private static final long MARKING_LOCK = 0x5765697247634d61L;

    private final Database database;

    PostgresObjectCatalog(Database database) {
        this.database = database;
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
            try (Statement statement = connection.createStatement()) {
                // Brokers marking at once would lock many object rows each, in no particular order.
                statement.execute("SELECT pg_advisory_xact_lock(" + MARKING_LOCK + ")");
            }
            try (PreparedStatement mark = connection.prepareStatement(
                "UPDATE objects o SET unreferenced_since_ms = ? WHERE unreferenced_since_ms IS NULL"
                    + " AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.object_key = o.object_key)")) {
                mark.setLong(1, nowMs);
                mark.executeUpdate();
            }
            try (Statement unmark = connection.createStatement()) {
                // What the marking waited for may have given an object batches it could not see (see above).
                unmark.executeUpdate("UPDATE objects o SET unreferenced_since_ms = NULL"
                    + " WHERE unreferenced_since_ms IS NOT NULL"
                    + " AND EXISTS (SELECT 1 FROM batches b WHERE b.object_key = o.object_key)");
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
                "SELECT 1 FROM objects WHERE object_key = ? FOR UPDATE")) {
                lock.setString(1, objectKey);
                try (ResultSet rows = lock.executeQuery()) {
                    if (!rows.next()) {
                        return false;
                    }
                }
            }
            int deleted;
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM objects o WHERE object_key = ?"
                + " AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.object_key = o.object_key)")) {
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
     * Three statements for all of them: the objects' rows are locked in key order (so that brokers collecting
     * at once never deadlock), then, in a statement of its own as above, those no batch refers to deleted.
     */
    @Override
    public List<String> forgetObjects(List<String> objectKeys) {
        if (objectKeys.isEmpty()) {
            return List.of();
        }
        return database.write("forget " + objectKeys.size() + " objects", connection -> {
            Array keys = connection.createArrayOf("text", objectKeys.toArray());
            try (PreparedStatement lock = connection.prepareStatement(
                "SELECT object_key FROM objects WHERE object_key = ANY (?) ORDER BY object_key FOR UPDATE")) {
                lock.setArray(1, keys);
                try (ResultSet rows = lock.executeQuery()) {
                    while (rows.next()) {
                        // Each row is locked as it is returned.
                    }
                }
            }
            Set<String> deleted = new HashSet<>();
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM objects o WHERE object_key = ANY (?)"
                + " AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.object_key = o.object_key) RETURNING object_key")) {
                delete.setArray(1, keys);
                try (ResultSet rows = delete.executeQuery()) {
                    while (rows.next()) {
                        deleted.add(rows.getString(1));
                    }
                }
            }
            if (!deleted.isEmpty()) {
                try (PreparedStatement delete = connection.prepareStatement(
                    "DELETE FROM segments WHERE object_key = ANY (?)")) {
                    delete.setArray(1, connection.createArrayOf("text", deleted.toArray()));
                    delete.executeUpdate();
                }
            }
            return objectKeys.stream().filter(deleted::contains).toList();
        });
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
