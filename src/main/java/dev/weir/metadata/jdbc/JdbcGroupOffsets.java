package dev.weir.metadata.jdbc;

import dev.weir.metadata.CommittedOffset;
import dev.weir.metadata.GroupOffsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * Consumer groups' committed offsets, on either database. Thread-safe. A group's coordinator may move
 * between brokers while the old one still writes, so each write takes its rows in (topic, partition)
 * order and two writes of one group wait for each other instead of deadlocking.
 */
public final class JdbcGroupOffsets implements GroupOffsets {
    private static final Comparator<CommittedOffset> ROW_ORDER =
        Comparator.comparing(CommittedOffset::topic).thenComparingInt(CommittedOffset::partition);
    private static final Comparator<TopicPartition> PARTITION_ORDER =
        Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    private final Transactions database;

    public JdbcGroupOffsets(Transactions database) {
        this.database = database;
    }

    @Override
    public void commitOffsets(String groupId, List<CommittedOffset> offsets) {
        database.write("commit offsets of group " + groupId, connection -> {
            try (PreparedStatement upsert = connection.prepareStatement(
                "INSERT INTO group_offsets (group_id, topic, partition, committed_offset, leader_epoch, metadata, commit_ms)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (group_id, topic, partition) DO UPDATE SET"
                    + " committed_offset = excluded.committed_offset, leader_epoch = excluded.leader_epoch,"
                    + " metadata = excluded.metadata, commit_ms = excluded.commit_ms")) {
                for (CommittedOffset offset : offsets.stream().sorted(ROW_ORDER).toList()) {
                    upsert.setString(1, groupId);
                    upsert.setString(2, offset.topic());
                    upsert.setInt(3, offset.partition());
                    upsert.setLong(4, offset.offset());
                    upsert.setInt(5, offset.leaderEpoch());
                    upsert.setString(6, offset.metadata());
                    upsert.setLong(7, offset.commitMs());
                    upsert.addBatch();
                }
                upsert.executeBatch();
            }
            return null;
        });
    }

    @Override
    public Map<String, List<CommittedOffset>> committedOffsets() {
        return database.read("read committed offsets", connection -> {
            Map<String, List<CommittedOffset>> offsets = new HashMap<>();
            try (Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT group_id, topic, partition, committed_offset,"
                     + " leader_epoch, metadata, commit_ms FROM group_offsets")) {
                while (rows.next()) {
                    offsets.computeIfAbsent(rows.getString(1), group -> new ArrayList<>()).add(new CommittedOffset(
                        rows.getString(2), rows.getInt(3), rows.getLong(4), rows.getInt(5), rows.getString(6),
                        rows.getLong(7)));
                }
            }
            return offsets;
        });
    }

    @Override
    public void deleteOffsets(String groupId, List<TopicPartition> partitions) {
        database.write("delete offsets of group " + groupId, connection -> {
            if (partitions == null) {
                try (PreparedStatement delete = connection.prepareStatement(
                    "DELETE FROM group_offsets WHERE group_id = ?")) {
                    delete.setString(1, groupId);
                    delete.executeUpdate();
                }
                return null;
            }
            try (PreparedStatement delete = connection.prepareStatement(
                "DELETE FROM group_offsets WHERE group_id = ? AND topic = ? AND partition = ?")) {
                for (TopicPartition partition : partitions.stream().sorted(PARTITION_ORDER).toList()) {
                    delete.setString(1, groupId);
                    delete.setString(2, partition.topic());
                    delete.setInt(3, partition.partition());
                    delete.addBatch();
                }
                delete.executeBatch();
            }
            return null;
        });
    }

    @Override
    public void deleteOffsetsOfTopic(String topic) {
        database.write("delete offsets of topic " + topic, connection -> {
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM group_offsets WHERE topic = ?")) {
                delete.setString(1, topic);
                delete.executeUpdate();
            }
            return null;
        });
    }
}
