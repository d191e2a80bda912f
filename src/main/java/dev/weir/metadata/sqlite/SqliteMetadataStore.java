package dev.weir.metadata.sqlite;

import dev.weir.metadata.AppendOutcome;
import dev.weir.metadata.BatchAppend;
import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.CommittedOffset;
import dev.weir.metadata.MetadataException;
import dev.weir.metadata.MetadataStore;
import dev.weir.metadata.NewSegment;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.PartitionOffsets;
import dev.weir.metadata.SegmentRecord;
import dev.weir.metadata.TopicRecord;
import dev.weir.metadata.WalFileUse;
import dev.weir.metadata.WalWrite;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;

/**
 * The embedded metadata database of a single node: one SQLite file in WAL mode with
 * {@code synchronous=FULL}, so a commit is on disk when it returns; the commits of WAL objects may
 * ask for {@code NORMAL} instead (see {@link #commit}).
 *
 * <p>Each role lives in its own class with its SQL ({@link SqliteTopics}, {@link SqliteBatchCoordinator},
 * {@link SqliteBatchIndex}, {@link SqliteMerges}, {@link SqliteObjects}, {@link SqliteGroupOffsets}),
 * all on one {@link SqliteDatabase}; this class hands each call to its role. Thread-safe: writes of
 * every role are serialised on the database's monitor; reads use a small pool of read-only
 * connections and run concurrently.
 */
public final class SqliteMetadataStore implements MetadataStore {
    private final SqliteDatabase database;
    private final String clusterId;
    private final SqliteBatchCoordinator coordinator;
    private final SqliteTopics topics;
    private final SqliteBatchIndex index;
    private final SqliteMerges merges;
    private final SqliteObjects objects;
    private final SqliteGroupOffsets groupOffsets;

    public SqliteMetadataStore(Path file, Clock clock) {
        try {
            database = new SqliteDatabase(file);
            clusterId = database.initialize(SqliteMetadataStore::loadOrCreateClusterId);
            coordinator = new SqliteBatchCoordinator(database, clock);
        } catch (SQLException e) {
            throw new MetadataException("cannot open metadata database " + file, e);
        }
        topics = new SqliteTopics(database, coordinator);
        index = new SqliteBatchIndex(database);
        merges = new SqliteMerges(database, coordinator);
        objects = new SqliteObjects(database);
        groupOffsets = new SqliteGroupOffsets(database);
    }

    private static String loadOrCreateClusterId(Connection writer) throws SQLException {
        try (Statement statement = writer.createStatement();
             ResultSet rows = statement.executeQuery("SELECT cluster_id FROM cluster WHERE id = 1")) {
            if (rows.next()) {
                return rows.getString(1);
            }
        }
        String id = Uuid.randomUuid().toString();
        try (PreparedStatement insert = writer.prepareStatement(
            "INSERT INTO cluster (id, cluster_id, next_producer_id) VALUES (1, ?, 0)")) {
            insert.setString(1, id);
            insert.executeUpdate();
        }
        return id;
    }

    @Override
    public String clusterId() {
        return clusterId;
    }

    @Override
    public List<TopicRecord> topics() {
        return topics.topics();
    }

    @Override
    public void createTopic(TopicRecord topic) {
        topics.createTopic(topic);
    }

    @Override
    public void deleteTopic(Uuid topicId) {
        topics.deleteTopic(topicId);
    }

    @Override
    public void addPartitions(Uuid topicId, int newPartitionCount) {
        topics.addPartitions(topicId, newPartitionCount);
    }

    @Override
    public void replaceTopicConfigs(Uuid topicId, Map<String, String> configs) {
        topics.replaceTopicConfigs(topicId, configs);
    }

    @Override
    public Map<PartitionKey, PartitionOffsets> partitionOffsets() {
        return coordinator.partitionOffsets();
    }

    @Override
    public List<AppendOutcome> commit(WalWrite written, List<BatchAppend> batches) {
        return coordinator.commit(written, batches);
    }

    @Override
    public Optional<String> lastWalFile() {
        return coordinator.lastWalFile();
    }

    @Override
    public long advanceLogStartOffset(PartitionKey partition, long offset) {
        return coordinator.advanceLogStartOffset(partition, offset);
    }

    @Override
    public long nextProducerId() {
        return coordinator.nextProducerId();
    }

    @Override
    public List<BatchLocation> batchesFrom(PartitionKey partition, long offset, int maxBatches) {
        return index.batchesFrom(partition, offset, maxBatches);
    }

    @Override
    public Optional<BatchLocation> firstBatchWithTimestampAtLeast(PartitionKey partition, long timestamp, long fromOffset) {
        return index.firstBatchWithTimestampAtLeast(partition, timestamp, fromOffset);
    }

    @Override
    public Optional<BatchLocation> batchWithMaxTimestamp(PartitionKey partition, long fromOffset) {
        return index.batchWithMaxTimestamp(partition, fromOffset);
    }

    @Override
    public long partitionBytes(PartitionKey partition) {
        return index.partitionBytes(partition);
    }

    @Override
    public Optional<String> newestObject(String prefix, long createdByMs) {
        return merges.newestObject(prefix, createdByMs);
    }

    @Override
    public Map<String, Map<PartitionKey, Long>> unmergedBytes(String fromKey, String toKey) {
        return merges.unmergedBytes(fromKey, toKey);
    }

    @Override
    public List<BatchLocation> batchesInObjects(PartitionKey partition, String fromKey, String toKey, long fromOffset,
                                                int maxBatches, boolean withFinalHeaders) {
        return merges.batchesInObjects(partition, fromKey, toKey, fromOffset, maxBatches, withFinalHeaders);
    }

    @Override
    public List<WalFileUse> objectsWithRowsKeptInPlace(String afterKey, String toKey, int max) {
        return merges.objectsWithRowsKeptInPlace(afterKey, toKey, max);
    }

    @Override
    public Map<PartitionKey, List<BatchLocation>> rowsKeptInPlaceIn(String objectKey) {
        return merges.rowsKeptInPlaceIn(objectKey);
    }

    @Override
    public List<SegmentRecord> segments(PartitionKey partition) {
        return merges.segments(partition);
    }

    @Override
    public boolean replaceBatches(PartitionKey partition, long fromOffset, long toOffset, int expectedRows,
                                  List<NewSegment> segments, List<BatchLocation> keptInPlace,
                                  List<String> replacedSegments) {
        return merges.replaceBatches(partition, fromOffset, toOffset, expectedRows, segments, keptInPlace,
            replacedSegments);
    }

    @Override
    public long cleanOffset(PartitionKey partition) {
        return merges.cleanOffset(partition);
    }

    @Override
    public void setCleanOffset(PartitionKey partition, long offset) {
        merges.setCleanOffset(partition, offset);
    }

    @Override
    public long objectSize(String objectKey) {
        return objects.objectSize(objectKey);
    }

    @Override
    public List<String> unreferencedObjects(long nowMs, long cutoffMs) {
        return objects.unreferencedObjects(nowMs, cutoffMs);
    }

    @Override
    public boolean forgetObject(String objectKey) {
        return objects.forgetObject(objectKey);
    }

    @Override
    public Set<String> committedObjectKeys() {
        return objects.committedObjectKeys();
    }

    @Override
    public void commitOffsets(String groupId, List<CommittedOffset> offsets) {
        groupOffsets.commitOffsets(groupId, offsets);
    }

    @Override
    public Map<String, List<CommittedOffset>> committedOffsets() {
        return groupOffsets.committedOffsets();
    }

    @Override
    public void deleteOffsets(String groupId, List<TopicPartition> partitions) {
        groupOffsets.deleteOffsets(groupId, partitions);
    }

    @Override
    public void deleteOffsetsOfTopic(String topic) {
        groupOffsets.deleteOffsetsOfTopic(topic);
    }

    /** Checkpoints the WAL now, as the database's checkpoint thread does every second. */
    void checkpoint() {
        database.checkpoint();
    }

    @Override
    public void close() {
        database.close();
    }
}
