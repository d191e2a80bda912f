package dev.weir.metadata.jdbc;

import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.PartitionKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/** The mapping between rows of the batches table and {@link BatchLocation}s, shared by the roles. */
public final class BatchRows {
    /** The columns {@link #location} reads, in its order. */
    public static final String LOCATION_COLUMNS =
        "base_offset, last_offset, object_key, position, size, max_timestamp, final_headers";

    private BatchRows() {
    }

    /** Reads {@link #LOCATION_COLUMNS}, from the first column on. */
    public static BatchLocation location(ResultSet rows) throws SQLException {
        return new BatchLocation(rows.getLong(1), rows.getLong(2), rows.getString(3), rows.getLong(4),
            rows.getInt(5), rows.getLong(6), rows.getBoolean(7));
    }

    /** Inserts index rows of the partition, each marked final_headers as its {@link BatchLocation#finalInObject} says. */
    static void insert(Dialect dialect, Connection connection, PartitionKey partition, List<BatchLocation> locations)
        throws SQLException {
        if (locations.isEmpty()) {
            return;
        }
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO batches (topic_id, partition, "
            + LOCATION_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (BatchLocation location : locations) {
                dialect.setPartition(insert, 1, partition);
                insert.setLong(3, location.baseOffset());
                insert.setLong(4, location.lastOffset());
                insert.setString(5, location.objectKey());
                insert.setLong(6, location.position());
                insert.setInt(7, location.size());
                insert.setLong(8, location.maxTimestamp());
                insert.setBoolean(9, location.finalInObject());
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }
}
