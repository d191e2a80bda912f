package dev.weir.metadata.sqlite;

import static dev.weir.metadata.sqlite.SqliteBatchIndex.LOCATION_COLUMNS;
import static dev.weir.metadata.sqlite.SqliteBatchIndex.location;

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
import org.apache.kafka.common.Uuid;

/**
 * The bookkeeping of merging and compaction on SQLite. A switch of an offset range to rewritten
 * objects asks the batch coordinator, under the write monitor, whether the partition still exists.
 * Thread-safe.
 */
final class SqliteMerges implements MergeCatalog {
    private final SqliteDatabase database;
    private final SqliteBatchCoordinator coordinator;

    SqliteMerges(SqliteDatabase database, SqliteBatchCoordinator coordinator) {
        this.database = database;
        this.coordinator = coordinator;
    }

    @Override
    public Optional<String> newestObject(String prefix, long createdByMs) {
        return database.read(connection -> {
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT MAX(object_key) FROM objects WHERE object_key >= ? AND object_key < ? AND created_ms <= ?")) {
                select.setString(1, prefix);
                select.setString(2, prefix + Character.MAX_VALUE);
                select.setLong(3, createdByMs);
                try (ResultSet rows = select.executeQuery()) {
                    return rows.next() ? Optional.ofNullable(rows.getString(1)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public Map<String, Map<PartitionKey, Long>> unmergedBytes(String fromKey, String toKey) {
        return database.read(connection -> {
            Map<String, Map<PartitionKey, Long>> bytes = new LinkedHashMap<>();
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT object_key, topic_id, partition, SUM(size) FROM batches WHERE object_key BETWEEN ? AND ?"
                    + " AND final_headers = 0 GROUP BY object_key, topic_id, partition ORDER BY object_key")) {
                select.setString(1, fromKey);
                select.setString(2, toKey);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        bytes.computeIfAbsent(rows.getString(1), key -> new LinkedHashMap<>()).put(
                            new PartitionKey(Uuid.fromString(rows.getString(2)), rows.getInt(3)), rows.getLong(4));
                    }
                }
            }
            return bytes;
        });
    }

    @Override
    public List<BatchLocation> batchesInObjects(PartitionKey partition, String fromKey, String toKey, long fromOffset,
                                                int maxBatches, boolean withFinalHeaders) {
        return database.read(connection -> {
            List<BatchLocation> batches = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT " + LOCATION_COLUMNS + " FROM batches"
                    + " WHERE topic_id = ? AND partition = ? AND base_offset >= ? AND object_key BETWEEN ? AND ?"
                    + (withFinalHeaders ? "" : " AND final_headers = 0") + " ORDER BY base_offset LIMIT ?")) {
                select.setString(1, partition.topicId().toString());
                select.setInt(2, partition.partition());
                select.setLong(3, fromOffset);
                select.setString(4, fromKey);
                select.setString(5, toKey);
                select.setInt(6, maxBatches);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        batches.add(location(rows));
                    }
                }
            }
            return batches;
        });
    }

    @Override
    public List<WalFileUse> objectsWithRowsKeptInPlace(String afterKey, String toKey, int max) {
        return database.read(connection -> {
            List<WalFileUse> files = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT o.object_key, o.size, o.created_ms,"
                    + " (SELECT COALESCE(SUM(b.size), 0) FROM batches b WHERE b.object_key = o.object_key)"
                    + " FROM objects o WHERE o.object_key > ? AND o.object_key <= ?"
                    + " AND EXISTS (SELECT 1 FROM batches b WHERE b.object_key = o.object_key AND b.final_headers = 1)"
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
        return database.read(connection -> {
            Map<PartitionKey, List<BatchLocation>> rowsByPartition = new LinkedHashMap<>();
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT " + LOCATION_COLUMNS + ", topic_id, partition FROM batches"
                    + " WHERE object_key = ? AND final_headers = 1"
                    + " ORDER BY topic_id, partition, base_offset")) {
                select.setString(1, objectKey);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        PartitionKey partition = new PartitionKey(Uuid.fromString(rows.getString(8)), rows.getInt(9));
                        rowsByPartition.computeIfAbsent(partition, key -> new ArrayList<>()).add(location(rows));
                    }
                }
            }
            return rowsByPartition;
        });
    }

    @Override
    public List<SegmentRecord> segments(PartitionKey partition) {
        return database.read(connection -> {
            List<SegmentRecord> segments = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT object_key, base_offset, last_offset, size, created_ms FROM segments"
                    + " WHERE topic_id = ? AND partition = ? ORDER BY base_offset")) {
                select.setString(1, partition.topicId().toString());
                select.setInt(2, partition.partition());
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
        boolean[] replaced = new boolean[1];
        database.write(writer -> {
            try (PreparedStatement delete = writer.prepareStatement(
                "DELETE FROM batches WHERE topic_id = ? AND partition = ? AND base_offset BETWEEN ? AND ?")) {
                delete.setString(1, partition.topicId().toString());
                delete.setInt(2, partition.partition());
                delete.setLong(3, fromOffset);
                delete.setLong(4, toOffset);
                if (delete.executeUpdate() != expectedRows || !coordinator.hasPartition(partition)) {
                    writer.rollback();
                    return;
                }
            }
            try (PreparedStatement delete = writer.prepareStatement("DELETE FROM segments WHERE object_key = ?")) {
                for (String key : replacedSegments) {
                    delete.setString(1, key);
                    delete.addBatch();
                }
                delete.executeBatch();
            }
            for (NewSegment added : segments) {
                insertSegment(writer, added);
            }
            insertRows(writer, partition, keptInPlace);
            replaced[0] = true;
        });
        return replaced[0];
    }

    private static void insertSegment(Connection writer, NewSegment added) throws SQLException {
        SegmentRecord segment = added.segment();
        String topicId = segment.partition().topicId().toString();
        try (PreparedStatement object = writer.prepareStatement(
            "INSERT INTO objects (object_key, size, created_ms) VALUES (?, ?, ?)");
             PreparedStatement record = writer.prepareStatement("INSERT INTO segments (object_key, topic_id, partition,"
                 + " base_offset, last_offset, size, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            object.setString(1, segment.objectKey());
            object.setLong(2, segment.size());
            object.setLong(3, segment.createdMs());
            object.executeUpdate();
            record.setString(1, segment.objectKey());
            record.setString(2, topicId);
            record.setInt(3, segment.partition().partition());
            record.setLong(4, segment.baseOffset());
            record.setLong(5, segment.lastOffset());
            record.setLong(6, segment.size());
            record.setLong(7, segment.createdMs());
            record.executeUpdate();
        }
        insertRows(writer, segment.partition(), added.rows());
    }

    /** Inserts index rows of the partition, each marked final_headers as its {@link BatchLocation#finalInObject} says. */
    private static void insertRows(Connection writer, PartitionKey partition, List<BatchLocation> rows)
        throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        try (PreparedStatement row = writer.prepareStatement("INSERT INTO batches (topic_id, partition, base_offset,"
            + " last_offset, object_key, position, size, max_timestamp, final_headers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (BatchLocation location : rows) {
                row.setString(1, partition.topicId().toString());
                row.setInt(2, partition.partition());
                row.setLong(3, location.baseOffset());
                row.setLong(4, location.lastOffset());
                row.setString(5, location.objectKey());
                row.setLong(6, location.position());
                row.setInt(7, location.size());
                row.setLong(8, location.maxTimestamp());
                row.setBoolean(9, location.finalInObject());
                row.addBatch();
            }
            row.executeBatch();
        }
    }

    @Override
    public long cleanOffset(PartitionKey partition) {
        return database.read(connection -> {
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT clean_offset FROM partitions WHERE topic_id = ? AND partition = ?")) {
                select.setString(1, partition.topicId().toString());
                select.setInt(2, partition.partition());
                try (ResultSet rows = select.executeQuery()) {
                    return rows.next() ? rows.getLong(1) : 0L;
                }
            }
        });
    }

    @Override
    public void setCleanOffset(PartitionKey partition, long offset) {
        database.write(writer -> {
            try (PreparedStatement update = writer.prepareStatement(
                "UPDATE partitions SET clean_offset = ? WHERE topic_id = ? AND partition = ?")) {
                update.setLong(1, offset);
                update.setString(2, partition.topicId().toString());
                update.setInt(3, partition.partition());
                update.executeUpdate();
            }
        });
    }
}
