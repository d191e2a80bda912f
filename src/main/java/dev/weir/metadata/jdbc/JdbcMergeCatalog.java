package dev.weir.metadata.jdbc;

import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.MergeCatalog;
import dev.weir.metadata.NewSegment;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.SegmentRecord;
import dev.weir.metadata.WalFileUse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The bookkeeping of merging and compaction, on either database. Thread-safe. Key ranges compare
 * object keys byte by byte (SQLite's text does; PostgreSQL's key columns have the "C" collation).
 * {@link #replaceBatches} holds the partition's row as a commit does, so a switch and a commit,
 * retention or deletion of the same partition take turns.
 */
public final class JdbcMergeCatalog implements MergeCatalog {
    private final Transactions database;
    private final Dialect dialect;

    public JdbcMergeCatalog(Transactions database, Dialect dialect) {
        this.database = database;
        this.dialect = dialect;
    }

    @Override
    public Optional<String> newestObject(String prefix, long createdByMs) {
        return database.read("find the newest object under " + prefix, connection -> {
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT MAX(object_key) FROM objects WHERE " + dialect.startsWith("object_key") + " AND created_ms <= ?")) {
                int next = dialect.setPrefix(select, 1, prefix);
                select.setLong(next, createdByMs);
                try (ResultSet rows = select.executeQuery()) {
                    return rows.next() ? Optional.ofNullable(rows.getString(1)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public Map<String, Map<PartitionKey, Long>> unmergedBytes(String fromKey, String toKey) {
        return database.read("sum the unmerged bytes of objects", connection -> {
            Map<String, Map<PartitionKey, Long>> bytes = new LinkedHashMap<>();
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT object_key, topic_id, partition, SUM(size) FROM batches WHERE object_key BETWEEN ? AND ?"
                    + " AND NOT final_headers GROUP BY object_key, topic_id, partition ORDER BY object_key")) {
                select.setString(1, fromKey);
                select.setString(2, toKey);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        bytes.computeIfAbsent(rows.getString(1), key -> new LinkedHashMap<>())
                            .put(dialect.partition(rows, 2), rows.getLong(4));
                    }
                }
            }
            return bytes;
        });
    }

    @Override
    public List<BatchLocation> batchesInObjects(PartitionKey partition, String fromKey, String toKey, long fromOffset,
                                                int maxBatches, boolean withFinalHeaders) {
        return database.read("read the batches of " + partition + " in objects", connection -> {
            List<BatchLocation> batches = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement("SELECT " + BatchRows.LOCATION_COLUMNS
                + " FROM batches WHERE topic_id = ? AND partition = ? AND base_offset >= ? AND object_key BETWEEN ? AND ?"
                + (withFinalHeaders ? "" : " AND NOT final_headers") + " ORDER BY base_offset LIMIT ?")) {
                dialect.setPartition(select, 1, partition);
                select.setLong(3, fromOffset);
                select.setString(4, fromKey);
                select.setString(5, toKey);
                select.setInt(6, maxBatches);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        batches.add(BatchRows.location(rows));
                    }
                }
            }
            return batches;
        });
    }

    @Override
    public List<WalFileUse> objectsWithRowsKeptInPlace(String afterKey, String toKey, int max) {
        return database.read("find objects with rows kept in place", connection -> {
            List<WalFileUse> files = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT o.object_key, o.size, o.created_ms,"
                    + " (SELECT COALESCE(SUM(b.size), 0) FROM batches b WHERE b.object_key = o.object_key)"
                    + " FROM objects o WHERE o.object_key > ? AND o.object_key <= ?"
                    + " AND EXISTS (SELECT 1 FROM batches b WHERE b.object_key = o.object_key AND b.final_headers)"
                    + " ORDER BY o.object_key LIMIT ?")) {
                select.setString(1, afterKey);
                select.setString(2, toKey);
                select.setInt(3, max);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        files.add(new WalFileUse(rows.getString(1), rows.getLong(2), rows.getLong(3), rows.getLong(4)));
                    }
                }
            }
            return files;
        });
    }

    @Override
    public Map<PartitionKey, List<BatchLocation>> rowsKeptInPlaceIn(String objectKey) {
        return database.read("read the rows kept in place in " + objectKey, connection -> {
            Map<PartitionKey, List<BatchLocation>> rowsByPartition = new LinkedHashMap<>();
            try (PreparedStatement select = connection.prepareStatement("SELECT " + BatchRows.LOCATION_COLUMNS
                + ", topic_id, partition FROM batches WHERE object_key = ? AND final_headers"
                + " ORDER BY topic_id, partition, base_offset")) {
                select.setString(1, objectKey);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        rowsByPartition.computeIfAbsent(dialect.partition(rows, 8), key -> new ArrayList<>())
                            .add(BatchRows.location(rows));
                    }
                }
            }
            return rowsByPartition;
        });
    }

    @Override
    public List<SegmentRecord> segments(PartitionKey partition) {
        return database.read("read the segments of " + partition, connection -> {
            List<SegmentRecord> segments = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT object_key, base_offset, last_offset, size, created_ms FROM segments"
                    + " WHERE topic_id = ? AND partition = ? ORDER BY base_offset")) {
                dialect.setPartition(select, 1, partition);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        segments.add(new SegmentRecord(rows.getString(1), partition, rows.getLong(2), rows.getLong(3),
                            rows.getLong(4), rows.getLong(5)));
                    }
                }
            }
            return segments;
        });
    }

    @Override
    public boolean replaceBatches(PartitionKey partition, long fromOffset, long toOffset, int expectedRows,
                                  List<NewSegment> segments, List<BatchLocation> keptInPlace,
                                  List<String> replacedSegments) {
        return database.write("switch the index of " + partition + " to rewritten objects", connection -> {
            try (PreparedStatement lock = connection.prepareStatement(
                "SELECT 1 FROM partitions WHERE topic_id = ? AND partition = ?" + dialect.lockingClause())) {
                dialect.setPartition(lock, 1, partition);
                try (ResultSet rows = lock.executeQuery()) {
                    if (!rows.next()) {
                        return false; // the topic was deleted
                    }
                }
            }
            try (PreparedStatement delete = connection.prepareStatement(
                "DELETE FROM batches WHERE topic_id = ? AND partition = ? AND base_offset BETWEEN ? AND ?")) {
                dialect.setPartition(delete, 1, partition);
                delete.setLong(3, fromOffset);
                delete.setLong(4, toOffset);
                if (delete.executeUpdate() != expectedRows) {
                    connection.rollback();
                    return false;
                }
            }
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM segments WHERE object_key = ?")) {
                for (String key : replacedSegments) {
                    delete.setString(1, key);
                    delete.addBatch();
                }
                delete.executeBatch();
            }
            for (NewSegment added : segments) {
                insertSegment(connection, added);
            }
            BatchRows.insert(dialect, connection, partition, keptInPlace);
            return true;
        });
    }

    private void insertSegment(Connection connection, NewSegment added) throws SQLException {
        SegmentRecord segment = added.segment();
        try (PreparedStatement object = connection.prepareStatement(
            "INSERT INTO objects (object_key, size, created_ms) VALUES (?, ?, ?)");
             PreparedStatement record = connection.prepareStatement("INSERT INTO segments (object_key, topic_id,"
                 + " partition, base_offset, last_offset, size, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            object.setString(1, segment.objectKey());
            object.setLong(2, segment.size());
            object.setLong(3, segment.createdMs());
            object.executeUpdate();
            record.setString(1, segment.objectKey());
            dialect.setPartition(record, 2, segment.partition());
            record.setLong(4, segment.baseOffset());
            record.setLong(5, segment.lastOffset());
            record.setLong(6, segment.size());
            record.setLong(7, segment.createdMs());
            record.executeUpdate();
        }
        BatchRows.insert(dialect, connection, segment.partition(), added.rows());
    }

    @Override
    public long cleanOffset(PartitionKey partition) {
        return database.read("read the clean offset of " + partition, connection -> {
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT clean_offset FROM partitions WHERE topic_id = ? AND partition = ?")) {
                dialect.setPartition(select, 1, partition);
                try (ResultSet rows = select.executeQuery()) {
                    return rows.next() ? rows.getLong(1) : 0L;
                }
            }
        });
    }

    @Override
    public void setCleanOffset(PartitionKey partition, long offset) {
        database.write("set the clean offset of " + partition, connection -> {
            try (PreparedStatement update = connection.prepareStatement(
                "UPDATE partitions SET clean_offset = ? WHERE topic_id = ? AND partition = ?")) {
                update.setLong(1, offset);
                dialect.setPartition(update, 2, partition);
                update.executeUpdate();
            }
            return null;
        });
    }
}
