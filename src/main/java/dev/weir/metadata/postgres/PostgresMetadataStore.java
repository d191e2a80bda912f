package dev.weir.metadata.postgres;

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
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;

/**
 * The metadata database of the cluster shape: one PostgreSQL database that every broker of the cluster
 * opens, each through its own bounded pool of connections. Nothing that must be atomic across brokers
 * lives in a broker's memory: offsets are assigned and producer sequences checked inside each commit's
 * transaction ({@link PostgresBatchCoordinator}), so any broker may commit to any partition. Each role
 * is a class of its own; this one opens the database, migrates its schema, and hands each call to its
 * role. Thread-safe.
 *
 * <p>Commits are durable when they return: {@link WalWrite#sync} does not matter here, since
 * PostgreSQL's {@code synchronous_commit} stays on.
 */
public final class PostgresMetadataStore implements MetadataStore {
    private final Database database;
    private final String clusterId;
    private final PostgresTopicCatalog topics;
    private final PostgresBatchCoordinator coordinator;
    private final PostgresBatchIndex index;
    private final PostgresMergeCatalog merges;
    private final PostgresObjectCatalog objects;
    private final PostgresGroupOffsets groups;

    /** Opens the database at {@code jdbcUrl} (user and password may be null), migrating its schema first. */
    public PostgresMetadataStore(String jdbcUrl, String user, String password, Clock clock) {
        database = new Database(jdbcUrl, user, password);
        try {
            // Brokers starting together migrate one at a time: Flyway holds an advisory lock meanwhile.
            Flyway.configure().dataSource(database.dataSource()).locations("classpath:db/migration/postgresql")
                .loggers("slf4j").load().migrate();
            clusterId = loadOrCreateClusterId(database);
        } catch (FlywayException | MetadataException e) {
            database.close();
            throw e instanceof MetadataException metadataException ? metadataException
                : new MetadataException("cannot migrate the metadata database: " + e.getMessage(), e);
        }
        topics = new PostgresTopicCatalog(database);
        coordinator = new PostgresBatchCoordinator(database, clock, new CommitNotices(jdbcUrl, user, password));
        index = new PostgresBatchIndex(database);
        merges = new PostgresMergeCatalog(database);
        objects = new PostgresObjectCatalog(database);
        groups = new PostgresGroupOffsets(database);
    }

    /** The cluster's id, made by the first broker that ever opened the database. */
    private static String loadOrCreateClusterId(Database database) {
        return database.write("create the cluster id", connection -> {
            try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO cluster (id, cluster_id) VALUES (1, ?) ON CONFLICT (id) DO NOTHING");
                 PreparedStatement select = connection.prepareStatement("SELECT cluster_id FROM cluster WHERE id = 1")) {
                insert.setString(1, Uuid.randomUuid().toString());
                insert.executeUpdate();
                try (ResultSet rows = select.executeQuery()) {
                    rows.next();
                    return rows.getString(1);
                }
            }
        });
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
    public AutoCloseable followCommits(java.util.function.Consumer<Map<PartitionKey, Long>> listener) {
        return coordinator.followCommits(listener);
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
        groups.commitOffsets(groupId, offsets);
    }

    @Override
    public Map<String, List<CommittedOffset>> committedOffsets() {
        return groups.committedOffsets();
    }

    @Override
    public void deleteOffsets(String groupId, List<TopicPartition> partitions) {
        groups.deleteOffsets(groupId, partitions);
    }

    @Override
    public void deleteOffsetsOfTopic(String topic) {
        groups.deleteOffsetsOfTopic(topic);
    }

    @Override
    public void close() {
        database.close();
    }
}
