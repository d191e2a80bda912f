package dev.weir.metadata.jdbc;

import dev.weir.metadata.BatchIndex;
import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.PartitionKey;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The batch index, on either database: reads only, each a single statement. Thread-safe. */
public final class JdbcBatchIndex implements BatchIndex {
    private final Transactions database;
    private final Dialect dialect;

    public JdbcBatchIndex(Transactions database, Dialect dialect) {
        this.database = database;
        this.dialect = dialect;
    }

    @Override
    public List<BatchLocation> batchesFrom(PartitionKey partition, long offset, int maxBatches) {
        return database.read("read the batches of " + partition, connection -> {
            List<BatchLocation> batches = new ArrayList<>();
            // The batch holding the offset has the largest base offset at or below it; later ones follow.
            // Where the offset lies in a gap between rows (compaction dropped the batches there), that row
            // ends before the offset and is left out: one row more is read, so that the page is still full.
            try (PreparedStatement select = connection.prepareStatement("SELECT " + BatchRows.LOCATION_COLUMNS
                + " FROM batches WHERE topic_id = ? AND partition = ? AND base_offset >= COALESCE((SELECT MAX(base_offset)"
                + " FROM batches WHERE topic_id = ? AND partition = ? AND base_offset <= ?), ?)"
                + " ORDER BY base_offset LIMIT ?")) {
                dialect.setPartition(select, 1, partition);
                dialect.setPartition(select, 3, partition);
                select.setLong(5, offset);
                select.setLong(6, offset);
                select.setLong(7, maxBatches + 1L);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next() && batches.size() < maxBatches) {
                        BatchLocation location = BatchRows.location(rows);
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
        return firstLocation("look up a timestamp in ", partition, fromOffset,
            " AND max_timestamp >= ? ORDER BY base_offset LIMIT 1", timestamp);
    }

    @Override
    public Optional<BatchLocation> batchWithMaxTimestamp(PartitionKey partition, long fromOffset) {
        return firstLocation("look up the largest timestamp in ", partition, fromOffset,
            " ORDER BY max_timestamp DESC, base_offset ASC LIMIT 1");
    }

    /**
     * The first of the partition's batches ending at or after {@code fromOffset} that the further
     * conditions, order and limit select; their parameters follow the offset's.
     */
    private Optional<BatchLocation> firstLocation(String what, PartitionKey partition, long fromOffset,
                                                  String conditionsAndOrder, long... parameters) {
        return database.read(what + partition, connection -> {
            try (PreparedStatement select = connection.prepareStatement("SELECT " + BatchRows.LOCATION_COLUMNS
                + " FROM batches WHERE topic_id = ? AND partition = ? AND last_offset >= ?" + conditionsAndOrder)) {
                dialect.setPartition(select, 1, partition);
                select.setLong(3, fromOffset);
                for (int i = 0; i < parameters.length; i++) {
                    select.setLong(4 + i, parameters[i]);
                }
                try (ResultSet rows = select.executeQuery()) {
                    return rows.next() ? Optional.of(BatchRows.location(rows)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public long partitionBytes(PartitionKey partition) {
        return database.read("sum the bytes of " + partition, connection -> {
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT COALESCE(SUM(size), 0) FROM batches WHERE topic_id = ? AND partition = ?")) {
                dialect.setPartition(select, 1, partition);
                try (ResultSet rows = select.executeQuery()) {
                    rows.next();
                    return rows.getLong(1);
                }
            }
        });
    }
}
