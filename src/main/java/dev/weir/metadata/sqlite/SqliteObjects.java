package dev.weir.metadata.sqlite;

import dev.weir.metadata.ObjectCatalog;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The catalog of committed objects on SQLite, for recovery and garbage collection. Thread-safe. */
final class SqliteObjects implements ObjectCatalog {
    private final SqliteDatabase database;

    SqliteObjects(SqliteDatabase database) {
        this.database = database;
    }

    @Override
    public long objectSize(String objectKey) {
        return database.read(connection -> {
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
        List<String> deletable = new ArrayList<>();
        database.write(writer -> {
            try (PreparedStatement mark = writer.prepareStatement(
                "UPDATE objects SET unreferenced_since_ms = ? WHERE unreferenced_since_ms IS NULL"
                    + " AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.object_key = objects.object_key)")) {
                mark.setLong(1, nowMs);
                mark.executeUpdate();
            }
            try (PreparedStatement select = writer.prepareStatement(
                "SELECT object_key FROM objects WHERE unreferenced_since_ms <= ?")) {
                select.setLong(1, cutoffMs);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        deletable.add(rows.getString(1));
                    }
                }
            }
        });
        return deletable;
    }

    @Override
    public boolean forgetObject(String objectKey) {
        int[] deleted = new int[1];
        database.write(writer -> {
            try (PreparedStatement delete = writer.prepareStatement("DELETE FROM objects WHERE object_key = ?"
                + " AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.object_key = ?)")) {
                delete.setString(1, objectKey);
                delete.setString(2, objectKey);
                deleted[0] = delete.executeUpdate();
            }
            if (deleted[0] == 1) {
                try (PreparedStatement delete = writer.prepareStatement("DELETE FROM segments WHERE object_key = ?")) {
                    delete.setString(1, objectKey);
                    delete.executeUpdate();
                }
            }
        });
        return deleted[0] == 1;
    }

    /** One synced transaction for all of them, where {@link #forgetObject} syncs one per object. */
    @Override
    public List<String> forgetObjects(List<String> objectKeys) {
        List<String> forgotten = new ArrayList<>();
        if (objectKeys.isEmpty()) {
            return forgotten;
        }
        database.write(writer -> {
            forgotten.clear();
            try (PreparedStatement delete = writer.prepareStatement("DELETE FROM objects WHERE object_key = ?"
                + " AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.object_key = ?)");
                 PreparedStatement deleteSegment = writer.prepareStatement("DELETE FROM segments WHERE object_key = ?")) {
                for (String objectKey : objectKeys) {
                    delete.setString(1, objectKey);
                    delete.setString(2, objectKey);
                    if (delete.executeUpdate() == 1) {
                        deleteSegment.setString(1, objectKey);
                        deleteSegment.executeUpdate();
                        forgotten.add(objectKey);
                    }
                }
            }
        });
        return forgotten;
    }

    @Override
    public Set<String> committedObjectKeys() {
        return database.read(connection -> {
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
