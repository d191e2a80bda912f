package dev.weir.metadata.postgres;

import dev.weir.metadata.PartitionKey;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.UUID;
import org.apache.kafka.common.Uuid;

/** The mapping between PostgreSQL's columns and the metadata records, for the batch coordinator. */
final class Rows {
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
        return PostgresDialect.INSTANCE.partition(rows, topicColumn);
    }

    /** Sets the partition's topic id and number at {@code column} and the one after it. */
    static void setPartition(PreparedStatement statement, int column, PartitionKey partition) throws SQLException {
        PostgresDialect.INSTANCE.setPartition(statement, column, partition);
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
}
