package dev.weir.metadata.sqlite;

import dev.weir.metadata.BatchIndex;
import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.PartitionKey;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The batch index on SQLite, for reads; every query runs on a read-only connection. Thread-safe. */
final class SqliteBatchIndex implements BatchIndex {
    /** The columns {@link #location} reads, first in a query on the batches table. */
    static final String LOCATION_COLUMNS =
        "base_offset, last_offset, object_key, position, size, max_timestamp, final_headers";

    private final SqliteDatabase database;

    SqliteBatchIndex(SqliteDatabase database) {
        this.database = database;
    }

    /** The location in the row's first columns, {@link #LOCATION_COLUMNS}. */
    static BatchLocation location(ResultSet rows) throws SQLException {
        return new BatchLocation(rows.getLong(1), rows.getLong(2), rows.getString(3), rows.getLong(4),
            rows.getInt(5), rows.getLong(6), rows.getBoolean(7));
    }

    @Override
    public List<BatchLocation> batchesFrom(PartitionKey partition, long offset, int maxBatches) {
        return database.read(connection -> {
            List<BatchLocation> batches = new ArrayList<>();
            // The batch holding the offset has the largest base offset at or below it; later ones follow.
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT " + LOCATION_COLUMNS + " FROM batches"
                    + " WHERE topic_id = ?1 AND partition = ?2 AND base_offset >= COALESCE((SELECT MAX(base_offset)"
                    + " FROM batches WHERE topic_id = ?1 AND partition = ?2 AND base_offset <= ?3), ?3)"
                    + " ORDER BY base_offset LIMIT ?4")) {
                select.setString(1, partition.topicId().toString());
                select.setInt(2, partition.partition());
                select.setLong(3, offset);
                select.setInt(4, maxBatches);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        BatchLocation location = location(rows);
                        if (location.lastOffset() >= offset) {
                            batches.add(location);
                        }
                    }
                }
            }
            return batches;
        });
    }

    @Override
    public Optional<BatchLocation> firstBatchWithTimestampAtLeast(PartitionKey partition, long timestamp, long fromOffset) {
        return firstLocation(partition, fromOffset, " AND max_timestamp >= ? ORDER BY base_offset LIMIT 1", timestamp);
    }

    @Override
    public Optional<BatchLocation> batchWithMaxTimestamp(PartitionKey partition, long fromOffset) {
        return firstLocation(partition, fromOffset, " ORDER BY max_timestamp DESC, base_offset ASC LIMIT 1");
    }

    /**
     * The first of the partition's batches ending at or after {@code fromOffset} that the further
     * conditions, order and limit select; their parameters follow the offset's.
     */
    private Optional<BatchLocation> firstLocation(PartitionKey partition, long fromOffset, String conditionsAndOrder,
                                                  long... parameters) {
        return database.read(connection -> {
            try (PreparedStatement select = connection.prepareStatement("SELECT " + LOCATION_COLUMNS + " FROM batches"
                + " WHERE topic_id = ? AND partition = ? AND last_offset >= ?" + conditionsAndOrder)) {
                select.setString(1, partition.topicId().toString());
                select.setInt(2, partition.partition());
                select.setLong(3, fromOffset);
                for (int i = 0; i < parameters.length; i++) {
                    select.setLong(4 + i, parameters[i]);
                }
                try (ResultSet rows = select.executeQuery()) {
                    return rows.next() ? Optional.of(location(rows)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public long partitionBytes(PartitionKey partition) {
        return database.read(connection -> {
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT COALESCE(SUM(size), 0) FROM batches WHERE topic_id = ? AND partition = ?")) {
                select.setString(1, partition.topicId().toString());
                select.setInt(2, partition.partition());
                try (ResultSet rows = select.executeQuery()) {
                    rows.next();
                    return rows.getLong(1);
                }
            }
        });
    }
}
