package dev.weir.metadata.jdbc;

import dev.weir.metadata.MetadataException;
import dev.weir.metadata.TopicCatalog;
import dev.weir.metadata.TopicExistsException;
import dev.weir.metadata.TopicRecord;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;

/**
 * The topic catalog, on either database. Thread-safe; on PostgreSQL brokers change topics
 * concurrently: a name is taken by the unique constraint, and a deletion holds the topic's partitions
 * as a commit does, so it waits for commits in progress and commits after it find the partitions gone.
 * A backend that keeps partitions in memory (SQLite's batch coordinator) is told of each change by its
 * {@link PartitionListener}, in step with the commit.
 */
public final class JdbcTopicCatalog implements TopicCatalog {
    /** The tables that hold a topic's rows, all deleted with it. */
    private static final List<String> TOPIC_TABLES =
        List.of("topics", "topic_configs", "partitions", "batches", "producer_state", "segments");

    /** Told of partitions created and deleted, once the transaction that did it has committed. */
    public interface PartitionListener {
        PartitionListener NONE = new PartitionListener() {
            @Override
            public void partitionsCreated(Uuid topicId, int from, int to) {
            }

            @Override
            public void topicDeleted(Uuid topicId) {
            }
        };

        /** Partitions {@code [from, to)} of the topic were created, empty. */
        void partitionsCreated(Uuid topicId, int from, int to);

        /** The topic was deleted with its partitions. */
        void topicDeleted(Uuid topicId);
    }

    private final Transactions database;
    private final Dialect dialect;
    private final PartitionListener listener;

    public JdbcTopicCatalog(Transactions database, Dialect dialect, PartitionListener listener) {
        this.database = database;
        this.dialect = dialect;
        this.listener = listener;
    }

    @Override
    public List<TopicRecord> topics() {
        return database.read("read topics", connection -> {
            Map<Uuid, Map<String, String>> configs = new HashMap<>();
            try (Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT topic_id, name, value FROM topic_configs")) {
                while (rows.next()) {
                    configs.computeIfAbsent(dialect.topicId(rows, 1), id -> new HashMap<>())
                        .put(rows.getString(2), rows.getString(3));
                }
            }
            List<TopicRecord> topics = new ArrayList<>();
            try (Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT topic_id, name, partitions, created_ms FROM topics")) {
                while (rows.next()) {
                    Uuid id = dialect.topicId(rows, 1);
                    topics.add(new TopicRecord(id, rows.getString(2), rows.getInt(3), configs.getOrDefault(id, Map.of()),
                        rows.getLong(4)));
                }
            }
            return topics;
        });
    }

    @Override
    public void createTopic(TopicRecord topic) {
        database.write("create topic " + topic.name(), connection -> {
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO topics (topic_id, name, partitions,"
                + " created_ms) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING")) {
                dialect.setTopicId(insert, 1, topic.id());
                insert.setString(2, topic.name());
                insert.setInt(3, topic.partitions());
                insert.setLong(4, topic.createdMs());
                if (insert.executeUpdate() == 0) {
                    throw new TopicExistsException(topic.name());
                }
            }
            insertConfigs(connection, topic.id(), topic.configs());
            insertPartitions(connection, topic.id(), 0, topic.partitions());
            dialect.catalogChanged(connection);
            return null;
        }, committed -> listener.partitionsCreated(topic.id(), 0, topic.partitions()));
    }

    private void insertConfigs(Connection connection, Uuid topicId, Map<String, String> configs) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement(
            "INSERT INTO topic_configs (topic_id, name, value) VALUES (?, ?, ?)")) {
            for (Map.Entry<String, String> config : configs.entrySet()) {
                dialect.setTopicId(insert, 1, topicId);
                insert.setString(2, config.getKey());
                insert.setString(3, config.getValue());
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    private void insertPartitions(Connection connection, Uuid topicId, int from, int to) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement(
            "INSERT INTO partitions (topic_id, partition, log_start_offset, next_offset) VALUES (?, ?, 0, 0)")) {
            for (int partition = from; partition < to; partition++) {
                dialect.setTopicId(insert, 1, topicId);
                insert.setInt(2, partition);
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    @Override
    public void deleteTopic(Uuid topicId) {
        database.write("delete topic " + topicId, connection -> {
            try (PreparedStatement lock = connection.prepareStatement(
                "SELECT 1 FROM partitions WHERE topic_id = ? ORDER BY partition" + dialect.lockingClause())) {
                dialect.setTopicId(lock, 1, topicId);
                lock.executeQuery().close();
            }
            for (String table : TOPIC_TABLES) {
                try (PreparedStatement delete = connection.prepareStatement(
                    "DELETE FROM " + table + " WHERE topic_id = ?")) {
                    dialect.setTopicId(delete, 1, topicId);
                    delete.executeUpdate();
                }
            }
            dialect.catalogChanged(connection);
            return null;
        }, committed -> listener.topicDeleted(topicId));
    }

    @Override
    public void addPartitions(Uuid topicId, int newPartitionCount) {
        database.write("add partitions to topic " + topicId, connection -> {
            int oldCount;
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT partitions FROM topics WHERE topic_id = ?" + dialect.lockingClause())) {
                dialect.setTopicId(select, 1, topicId);
                try (ResultSet rows = select.executeQuery()) {
                    if (!rows.next()) {
                        throw new MetadataException("no topic with id " + topicId);
                    }
                    oldCount = rows.getInt(1);
                }
            }
            if (newPartitionCount <= oldCount) {
                throw new MetadataException("partition count can only grow");
            }
            try (PreparedStatement update = connection.prepareStatement(
                "UPDATE topics SET partitions = ? WHERE topic_id = ?")) {
                update.setInt(1, newPartitionCount);
                dialect.setTopicId(update, 2, topicId);
                update.executeUpdate();
            }
            insertPartitions(connection, topicId, oldCount, newPartitionCount);
            dialect.catalogChanged(connection);
            return oldCount;
        }, oldCount -> listener.partitionsCreated(topicId, oldCount, newPartitionCount));
    }

    @Override
    public void replaceTopicConfigs(Uuid topicId, Map<String, String> configs) {
        database.write("replace the configs of topic " + topicId, connection -> {
            // The topic's row lock makes two brokers' replacements take turns instead of mixing.
            try (PreparedStatement lock = connection.prepareStatement(
                "SELECT 1 FROM topics WHERE topic_id = ?" + dialect.lockingClause())) {
                dialect.setTopicId(lock, 1, topicId);
                lock.executeQuery().close();
            }
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM topic_configs WHERE topic_id = ?")) {
                dialect.setTopicId(delete, 1, topicId);
                delete.executeUpdate();
            }
            insertConfigs(connection, topicId, configs);
            dialect.catalogChanged(connection);
            return null;
        });
    }
}
