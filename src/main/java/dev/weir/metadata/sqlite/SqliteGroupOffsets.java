package dev.weir.metadata.sqlite;

import dev.weir.metadata.CommittedOffset;
import dev.weir.metadata.GroupOffsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/** Consumer groups' committed offsets on SQLite. Thread-safe. */
final class SqliteGroupOffsets implements GroupOffsets {
    private final SqliteDatabase database;

    SqliteGroupOffsets(SqliteDatabase database) {
        this.database = database;
    }

    @Override
    public void commitOffsets(String groupId, List<CommittedOffset> offsets) {
        database.write(writer -> {
            try (PreparedStatement upsert = writer.prepareStatement(
                "INSERT INTO group_offsets (group_id, topic, partition, committed_offset, leader_epoch, metadata, commit_ms)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (group_id, topic, partition) DO UPDATE SET"
                    + " committed_offset = excluded.committed_offset, leader_epoch = excluded.leader_epoch,"
                    + " metadata = excluded.metadata, commit_ms = excluded.commit_ms")) {
                for (CommittedOffset offset : offsets) {
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
        });
    }

    @Override
    public Map<String, List<CommittedOffset>> committedOffsets() {
        return database.read(connection -> {
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
        database.write(writer -> {
            if (partitions == null) {
                try (PreparedStatement delete = writer.prepareStatement("DELETE FROM group_offsets WHERE group_id = ?")) {
                    delete.setString(1, groupId);
                    delete.executeUpdate();
                }
                return;
            }
            try (PreparedStatement delete = writer.prepareStatement(
                "DELETE FROM group_offsets WHERE group_id = ? AND topic = ? AND partition = ?")) {
                for (TopicPartition partition : partitions) {
                    delete.setString(1, groupId);
                    delete.setString(2, partition.topic());
                    delete.setInt(3, partition.partition());
                    delete.addBatch();
                }
                delete.executeBatch();
            }
        });
    }

    @Override
    public void deleteOffsetsOfTopic(String topic) {
        database.write(writer -> {
            try (PreparedStatement delete = writer.prepareStatement("DELETE FROM group_offsets WHERE topic = ?")) {
                delete.setString(1, topic);
                delete.executeUpdate();
            }
        });
    }
}
