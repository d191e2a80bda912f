package dev.weir.metadata.jdbc;

import dev.weir.metadata.PartitionKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.apache.kafka.common.Uuid;

/**
 * What the roles' shared SQL leaves to each database: the type a topic id is stored as, how a
 * transaction holds rows and locks against other writers, and how a key prefix is matched. Everything
 * else (upserts with {@code ON CONFLICT}, booleans, {@code LIMIT}) both databases spell alike.
 * Implementations are stateless and thread-safe.
 */
public interface Dialect {
    void setTopicId(PreparedStatement statement, int index, Uuid topicId) throws SQLException;

    Uuid topicId(ResultSet rows, int column) throws SQLException;

    /** Sets the partition's topic id and number at {@code index} and the one after it. */
    default void setPartition(PreparedStatement statement, int index, PartitionKey partition) throws SQLException {
        setTopicId(statement, index, partition.topicId());
        statement.setInt(index + 1, partition.partition());
    }

    /** The partition whose topic id is in {@code topicColumn} and number in the one after it. */
    default PartitionKey partition(ResultSet rows, int topicColumn) throws SQLException {
        return new PartitionKey(topicId(rows, topicColumn), rows.getInt(topicColumn + 1));
    }

    /**
     * What ends a SELECT whose rows the transaction holds until it ends, so that other writers of them
     * wait: {@code " FOR UPDATE"}, or nothing where one writer at a time runs and nobody can change them.
     */
    String lockingClause();

    /**
     * Takes the lock named {@code key} until the transaction ends, so that only one writer at a time
     * does what it guards; nothing to take where one writer at a time runs anyway.
     */
    void lockForTransaction(Connection connection, long key) throws SQLException;

    /**
     * Tells the other brokers on the database, when the transaction of {@code connection} commits, that
     * the topic catalog or a partition's log start changed; nothing where one broker opens the database.
     */
    void catalogChanged(Connection connection) throws SQLException;

    /** A condition that {@code column} starts with the prefix that {@link #setPrefix} binds. */
    String startsWith(String column);

    /** Binds the prefix of {@link #startsWith} from {@code index} on; returns the index after its parameters. */
    int setPrefix(PreparedStatement statement, int index, String prefix) throws SQLException;
}
