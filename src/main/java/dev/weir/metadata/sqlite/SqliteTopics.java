package dev.weir.metadata.sqlite;

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
 * The topic catalog on SQLite. Creating, growing and deleting a topic also tells the batch coordinator,
 * whose in-memory offsets and producer state follow the partitions, under the same write monitor as the
 * transaction. Thread-safe.
 */
final class SqliteTopics implements TopicCatalog {
    private final SqliteDatabase database;
    private final SqliteBatchCoordinator coordinator;

    SqliteTopics(SqliteDatabase database, SqliteBatchCoordinator coordinator) {
        this.database = database;
        this.coordinator = coordinator;
    }

    @Override
    public List<TopicRecord> topics() {
        return database.read(connection -> {
            Map<String, Map<String, String>> configs = new HashMap<>();
            try (Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT topic_id, name, value FROM topic_configs")) {
                while (rows.next()) {
                    configs.computeIfAbsent(rows.getString(1), id -> new HashMap<>()).put(rows.getString(2), rows.getString(3));
                }
            }
            List<TopicRecord> topics = new ArrayList<>();
            try (Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT topic_id, name, partitions, created_ms FROM topics")) {
                while (rows.next()) {
                    String id = rows.getString(1);
                    topics.add(new TopicRecord(Uuid.fromString(id), rows.getString(2), rows.getInt(3),
                        configs.getOrDefault(id, Map.of()), rows.getLong(4)));
                }
            }
            return topics;
        });
    }

    @Override
    public void createTopic(TopicRecord topic) {
        synchronized (database) {
            database.write(writer -> {
                try (PreparedStatement exists = writer.prepareStatement("SELECT 1 FROM topics WHERE name = ?")) {
                    exists.setString(1, topic.name());
                    try (ResultSet rows = exists.executeQuery()) {
                        if (rows.next()) {
                            throw new TopicExistsException(topic.name());
                        }
                    }
                }
                try (PreparedStatement insert = writer.prepareStatement(
                    "INSERT INTO topics (topic_id, name, partitions, created_ms) VALUES (?, ?, ?, ?)")) {
                    insert.setString(1, topic.id().toString());
                    insert.setString(2, topic.name());
                    insert.setInt(3, topic.partitions());
                    insert.setLong(4, topic.createdMs());
                    insert.executeUpdate();
                }
                insertConfigs(writer, topic.id(), topic.configs());
                insertPartitions(writer, topic.id(), 0, topic.partitions());
            });
            coordinator.partitionsCreated(topic.id(), 0, topic.partitions());
        }
    }

    private static void insertConfigs(Connection writer, Uuid topicId, Map<String, String> configs) throws SQLException {
        try (PreparedStatement insert = writer.prepareStatement(
            "INSERT INTO topic_configs (topic_id, name, value) VALUES (?, ?, ?)")) {
            for (Map.Entry<String, String> config : configs.entrySet()) {
                insert.setString(1, topicId.toString());
                insert.setString(2, config.getKey());
                insert.setString(3, config.getValue());
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    private static void insertPartitions(Connection writer, Uuid topicId, int from, int to) throws SQLException {
        try (PreparedStatement insert = writer.prepareStatement(
            "INSERT INTO partitions (topic_id, partition, log_start_offset, next_offset) VALUES (?, ?, 0, 0)")) {
            for (int partition = from; partition < to; partition++) {
                insert.setString(1, topicId.toString());
                insert.setInt(2, partition);
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    @Override
    public void deleteTopic(Uuid topicId) {
        synchronized (database) {
            database.write(writer -> {
                for (String table : List.of("topics", "topic_configs", "partitions", "batches", "producer_state", "segments")) {
                    try (PreparedStatement delete = writer.prepareStatement("DELETE FROM " + table + " WHERE topic_id = ?")) {
                        delete.setString(1, topicId.toString());
                        delete.executeUpdate();
                    }
                }
            });
            coordinator.topicDeleted(topicId);
        }
    }

    @Override
    public void addPartitions(Uuid topicId, int newPartitionCount) {
        synchronized (database) {
            int[] oldCount = new int[1];
            database.write(writer -> {
                try (PreparedStatement select = writer.prepareStatement("SELECT partitions FROM topics WHERE topic_id = ?")) {
                    select.setString(1, topicId.toString());
                    try (ResultSet rows = select.executeQuery()) {
                        if (!rows.next()) {
                            throw new MetadataException("no topic with id " + topicId);
                        }
                        oldCount[0] = rows.getInt(1);
                    }
                }
                if (newPartitionCount <= oldCount[0]) {
                    throw new MetadataException("partition count can only grow");
                }
                try (PreparedStatement update = writer.prepareStatement("UPDATE topics SET partitions = ? WHERE topic_id = ?")) {
                    update.setInt(1, newPartitionCount);
                    update.setString(2, topicId.toString());
                    update.executeUpdate();
                }
                insertPartitions(writer, topicId, oldCount[0], newPartitionCount);
            });
            coordinator.partitionsCreated(topicId, oldCount[0], newPartitionCount);
        }
    }

    @Override
    public void replaceTopicConfigs(Uuid topicId, Map<String, String> configs) {
        database.write(writer -> {
            try (PreparedStatement delete = writer.prepareStatement("DELETE FROM topic_configs WHERE topic_id = ?")) {
                delete.setString(1, topicId.toString());
                delete.executeUpdate();
            }
            insertConfigs(writer, topicId, configs);
        });
    }
}
