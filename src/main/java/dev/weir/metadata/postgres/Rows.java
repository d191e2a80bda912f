package dev.weir.metadata.postgres;

import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.PartitionKey;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.common.Uuid;

/** The mapping between the schema's columns and the metadata records, shared by the roles. */
final class Rows {
    /** The columns {@link #location} reads, in its order. */
    static final String LOCATION_COLUMNS =
        "base_offset, last_offset, object_key, position, size, max_timestamp, final_headers";

    private Rows() {
    }

    static UUID uuid(Uuid topicId) {
        return new UUID(topicId.getMostSignificantBits(), topicId.getLeastSignificantBits());
    }

    static Uuid topicId(ResultSet rows, int column) throws SQLException {
        UUID id = rows.getObject(column, UUID.class);
        return new Uuid(id.getMostSignificantBits(), id.getLeastSignificantBits());
    }

    static PartitionKey partition(ResultSet rows, int topicColumn) throws SQLException {
        return new PartitionKey(topicId(rows, topicColumn), rows.getInt(topicColumn + 1));
    }

    /** Sets the partition's topic id and number at {@code column} and the one after it. */
    static void setPartition(PreparedStatement statement, int column, PartitionKey partition) throws SQLException {
        statement.setObject(column, uuid(partition.topicId()));
        statement.setInt(column + 1, partition.partition());
    }

    /** Reads {@link #LOCATION_COLUMNS}, from the first column on. */
    static BatchLocation location(ResultSet rows) throws SQLException {
        return new BatchLocation(rows.getLong(1), rows.getLong(2), rows.getString(3), rows.getLong(4),
            rows.getInt(5), rows.getLong(6), rows.getBoolean(7));
    }

    /** The partitions' topic ids and numbers as two arrays, for {@code unnest(?::uuid[], ?::integer[])}. */
    static Array[] partitionArrays(Connection connection, Collection<PartitionKey> partitions) throws SQLException {
        Object[] topicIds = new Object[partitions.size()];
        Object[] numbers = new Object[partitions.size()];
        int i = 0;
        for (PartitionKey partition : partitions) {
            topicIds[i] = uuid(partition.topicId());
            numbers[i] = partition.partition();
            i++;
        }
        return new Array[] {connection.createArrayOf("uuid", topicIds), connection.createArrayOf("integer", numbers)};
    }

    /** Inserts index rows of the partition, each marked final_headers as its {@link BatchLocation#finalInObject} says. */
    static void insertLocations(Connection connection, PartitionKey partition, List<BatchLocation> locations)
        throws SQLException {
        if (locations.isEmpty()) {
            return;
        }
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO batches (topic_id, partition, "
            + LOCATION_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (BatchLocation location : locations) {
                setPartition(insert, 1, partition);
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
