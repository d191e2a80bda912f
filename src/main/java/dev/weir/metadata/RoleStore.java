package dev.weir.metadata;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;

/**
 * A metadata store made of one object per role: every call goes to its role. A backend gives its roles
 * and what is its own (the cluster id, closing).
 */
public abstract class RoleStore implements MetadataStore {
    protected abstract TopicCatalog topicCatalog();

    protected abstract BatchCoordinator batchCoordinator();

    protected abstract BatchIndex batchIndex();

    protected abstract MergeCatalog mergeCatalog();

    protected abstract ObjectCatalog objectCatalog();

    protected abstract GroupOffsets groupOffsets();

    protected abstract BrokerRegistry brokerRegistry();

    @Override
    public BrokerRegistration register(BrokerRegistration broker, long replaceHeartbeatAtMostMs) {
        return brokerRegistry().register(broker, replaceHeartbeatAtMostMs);
    }

    @Override
    public boolean heartbeat(int nodeId, String instanceId, long nowMs) {
        return brokerRegistry().heartbeat(nodeId, instanceId, nowMs);
    }

    @Override
    public void unregister(int nodeId, String instanceId) {
        brokerRegistry().unregister(nodeId, instanceId);
    }

    @Override
    public List<BrokerRegistration> brokers() {
        return brokerRegistry().brokers();
    }

    @Override
    public List<TopicRecord> topics() {
        return topicCatalog().topics();
    }

    @Override
    public void createTopic(TopicRecord topic) {
        topicCatalog().createTopic(topic);
    }

    @Override
    public void deleteTopic(Uuid topicId) {
        topicCatalog().deleteTopic(topicId);
    }

    @Override
    public void addPartitions(Uuid topicId, int newPartitionCount) {
        topicCatalog().addPartitions(topicId, newPartitionCount);
    }

    @Override
    public void replaceTopicConfigs(Uuid topicId, Map<String, String> configs) {
        topicCatalog().replaceTopicConfigs(topicId, configs);
    }

    @Override
    public Map<PartitionKey, PartitionOffsets> partitionOffsets() {
        return batchCoordinator().partitionOffsets();
    }

    @Override
    public List<AppendOutcome> commit(WalWrite written, List<BatchAppend> batches) {
        return batchCoordinator().commit(written, batches);
    }

    @Override
    public Optional<String> lastWalFile() {
        return batchCoordinator().lastWalFile();
    }

    @Override
    public long advanceLogStartOffset(PartitionKey partition, long offset) {
        return batchCoordinator().advanceLogStartOffset(partition, offset);
    }

    @Override
    public long nextProducerId() {
        return batchCoordinator().nextProducerId();
    }

    @Override
    public List<BatchLocation> batchesFrom(PartitionKey partition, long offset, int maxBatches) {
        return batchIndex().batchesFrom(partition, offset, maxBatches);
    }

    @Override
    public Optional<BatchLocation> firstBatchWithTimestampAtLeast(PartitionKey partition, long timestamp, long fromOffset) {
        return batchIndex().firstBatchWithTimestampAtLeast(partition, timestamp, fromOffset);
    }

    @Override
    public Optional<BatchLocation> batchWithMaxTimestamp(PartitionKey partition, long fromOffset) {
        return batchIndex().batchWithMaxTimestamp(partition, fromOffset);
    }

    @Override
    public long partitionBytes(PartitionKey partition) {
        return batchIndex().partitionBytes(partition);
    }

    @Override
    public Optional<String> newestObject(String prefix, long createdByMs) {
        return mergeCatalog().newestObject(prefix, createdByMs);
    }

    @Override
    public Map<String, Map<PartitionKey, Long>> unmergedBytes(String fromKey, String toKey) {
        return mergeCatalog().unmergedBytes(fromKey, toKey);
    }

    @Override
    public List<BatchLocation> batchesInObjects(PartitionKey partition, String fromKey, String toKey, long fromOffset,
                                                int maxBatches, boolean withFinalHeaders) {
        return mergeCatalog().batchesInObjects(partition, fromKey, toKey, fromOffset, maxBatches, withFinalHeaders);
    }

    @Override
    public List<WalFileUse> objectsWithRowsKeptInPlace(String afterKey, String toKey, int max) {
        return mergeCatalog().objectsWithRowsKeptInPlace(afterKey, toKey, max);
    }

    @Override
    public Map<PartitionKey, List<BatchLocation>> rowsKeptInPlaceIn(String objectKey) {
        return mergeCatalog().rowsKeptInPlaceIn(objectKey);
    }

    @Override
    public List<SegmentRecord> segments(PartitionKey partition) {
        return mergeCatalog().segments(partition);
    }

    @Override
    public boolean replaceBatches(PartitionKey partition, long fromOffset, long toOffset, int expectedRows,
                                  List<NewSegment> segments, List<BatchLocation> keptInPlace,
                                  List<String> replacedSegments) {
        return mergeCatalog().replaceBatches(partition, fromOffset, toOffset, expectedRows, segments, keptInPlace,
            replacedSegments);
    }

    @Override
    public long cleanOffset(PartitionKey partition) {
        return mergeCatalog().cleanOffset(partition);
    }

    @Override
    public void setCleanOffset(PartitionKey partition, long offset) {
        mergeCatalog().setCleanOffset(partition, offset);
    }

    @Override
    public long objectSize(String objectKey) {
        return objectCatalog().objectSize(objectKey);
    }

    @Override
    public List<String> unreferencedObjects(long nowMs, long cutoffMs) {
        return objectCatalog().unreferencedObjects(nowMs, cutoffMs);
    }

    @Override
    public boolean forgetObject(String objectKey) {
        return objectCatalog().forgetObject(objectKey);
    }

    @Override
    public List<String> forgetObjects(List<String> objectKeys) {
        return objectCatalog().forgetObjects(objectKeys);
    }

    @Override
    public Set<String> committedObjectKeys() {
        return objectCatalog().committedObjectKeys();
    }

    @Override
    public void commitOffsets(String groupId, List<CommittedOffset> offsets) {
        groupOffsets().commitOffsets(groupId, offsets);
    }

    @Override
    public Map<String, List<CommittedOffset>> committedOffsets() {
        return groupOffsets().committedOffsets();
    }

    @Override
    public void deleteOffsets(String groupId, List<TopicPartition> partitions) {
        groupOffsets().deleteOffsets(groupId, partitions);
    }

    @Override
    public void deleteOffsetsOfTopic(String topic) {
        groupOffsets().deleteOffsetsOfTopic(topic);
    }

    @Override
    public AutoCloseable followCommits(java.util.function.Consumer<Map<PartitionKey, Long>> listener) {
        return batchCoordinator().followCommits(listener);
    }

    @Override
    public AutoCloseable followCatalog(Runnable changed) {
        return topicCatalog().followCatalog(changed);
    }
}
