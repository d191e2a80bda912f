package dev.weir.metadata.postgres;

import dev.weir.metadata.BatchIndex;
import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.PartitionKey;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The batch index on PostgreSQL: reads only, each a single statement. Thread-safe. */
final class PostgresBatchIndex implements BatchIndex {
    private final Database database;

    PostgresBatchIndex(Database database) {
        this.database = database;
    }

    @Override
    public List<BatchLocation> batchesFrom(PartitionKey partition, long offset, int maxBatches) {
        return database.read("read the batches of " + partition, connection -> {
            List<BatchLocation> batches = new ArrayList<>();
            // The batch holding the offset has the largest base offset at or below it; later ones follow.
            try (PreparedStatement select = connection.prepareStatement("SELECT " + Rows.LOCATION_COLUMNS
                + " FROM batches WHERE topic_id = ? AND partition = ? AND base_offset >= COALESCE((SELECT MAX(base_offset)"
                + " FROM batches WHERE topic_id = ? AND partition = ? AND base_offset <= ?), ?)"
                + " ORDER BY base_offset LIMIT ?")) {
                Rows.setPartition(select, 1, partition);
                Rows.setPartition(select, 3, partition);
                select.setLong(5, offset);
                select.setLong(6, offset);
                select.setInt(7, maxBatches);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        BatchLocation location = Rows.location(rows);
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
        return database.read("look up a timestamp in " + partition, connection -> {
            try (PreparedStatement select = connection.prepareStatement("SELECT " + Rows.LOCATION_COLUMNS
                + " FROM batches WHERE topic_id = ? AND partition = ? AND last_offset >= ? AND max_timestamp >= ?"
                + " ORDER BY base_offset LIMIT 1")) {
                Rows.setPartition(select, 1, partition);
                select.setLong(3, fromOffset);
                select.setLong(4, timestamp);
                try (ResultSet rows = select.executeQuery()) {
                    return rows.next() ? Optional.of(Rows.location(rows)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public Optional<BatchLocation> batchWithMaxTimestamp(PartitionKey partition, long fromOffset) {
        return database.read("look up the largest timestamp in " + partition, connection -> {
            try (PreparedStatement select = connection.prepareStatement("SELECT " + Rows.LOCATION_COLUMNS
                + " FROM batches WHERE topic_id = ? AND partition = ? AND last_offset >= ?"
                + " ORDER BY max_timestamp DESC, base_offset ASC LIMIT 1")) {
                Rows.setPartition(select, 1, partition);
                select.setLong(3, fromOffset);
                try (ResultSet rows = select.executeQuery()) {
                    return rows.next() ? Optional.of(Rows.location(rows)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public long partitionBytes(PartitionKey partition) {
        return database.read("sum the bytes of " + partition, connection -> {
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT COALESCE(SUM(size), 0) FROM batches WHERE topic_id = ? AND partition = ?")) {
                Rows.setPartition(select, 1, partition);
                try (ResultSet rows = select.executeQuery()) {
                    rows.next();
                    return rows.getLong(1);
                }
            }
        });
    }
}
