package dev.weir.metadata;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.Uuid;

/**
 * The metadata database: topics and their configs, the batch index, partition offsets and producer
 * state. Offsets are assigned here, in {@link #commit}, in one transaction per object. Implementations
 * are thread-safe; every method may block on I/O and throws {@link MetadataException} on failure.
 */
public interface MetadataStore extends AutoCloseable {
    String clusterId();

    List<TopicRecord> topics();

    /** Creates the topic and its partitions; throws {@link TopicExistsException} if the name is taken. */
    void createTopic(TopicRecord topic);

    /** Removes the topic, its configs, partitions, batch index rows and producer state. */
    void deleteTopic(Uuid topicId);

    void addPartitions(Uuid topicId, int newPartitionCount);

    /** Replaces the topic's explicitly set configs. */
    void replaceTopicConfigs(Uuid topicId, Map<String, String> configs);

    /** The offsets of every partition, read once at start-up. */
    Map<PartitionKey, PartitionOffsets> partitionOffsets();

    /**
     * Commits one written WAL object: assigns offsets to its batches in order, checks idempotent-producer
     * sequences, and records the batches' locations, all in one transaction. A batch that fails its
     * check gets an error outcome and is not indexed; the others are unaffected. WAL objects are written
     * one after another into WAL files: the first object of a file records the file, later ones extend
     * it, which fails if the file is no longer recorded. Unless {@link WalWrite#sync} is set the commit
     * may reach the disk later; every other write of this store syncs before it returns, and with it
     * every commit before it.
     */
    List<AppendOutcome> commit(WalWrite written, List<BatchAppend> batches);

    /** The newest WAL file that had an object committed (it may have been deleted since). */
    Optional<String> lastWalFile();

    /** The recorded size of a committed object, or -1: for a WAL file, where its last committed object ends. */
    long objectSize(String objectKey);

    /** Batches of the partition whose last offset is at or after {@code offset}, in offset order. */
    List<BatchLocation> batchesFrom(PartitionKey partition, long offset, int maxBatches);

    /** The first batch holding a record with timestamp at or after {@code timestamp}. */
    Optional<BatchLocation> firstBatchWithTimestampAtLeast(PartitionKey partition, long timestamp, long fromOffset);

    /** The batch holding the partition's largest timestamp (the earliest such batch). */
    Optional<BatchLocation> batchWithMaxTimestamp(PartitionKey partition, long fromOffset);

    /** Moves the log start offset forward (never back) and drops index rows wholly before it. */
    long advanceLogStartOffset(PartitionKey partition, long offset);

    /** The bytes of the partition's indexed batches. */
    long partitionBytes(PartitionKey partition);

    /**
     * Marks committed objects that no batch refers to any more (at {@code nowMs}, if not marked
     * before) and returns those marked at or before {@code cutoffMs}: safe to delete.
     */
    List<String> unreferencedObjects(long nowMs, long cutoffMs);

    /** Forgets an object about to be deleted; false (and nothing forgotten) if a batch refers to it. */
    boolean forgetObject(String objectKey);

    /**
     * The largest key of a committed object whose key starts with {@code prefix}, last written at or
     * before {@code createdByMs} (a WAL file: when its last WAL object was committed).
     */
    Optional<String> newestObject(String prefix, long createdByMs);

    /**
     * The bytes of the index rows not merged yet ({@link BatchLocation#finalInObject} unset) in each
     * object whose key lies between the two keys (inclusive), per partition; objects in key order.
     */
    Map<String, Map<PartitionKey, Long>> unmergedBytes(String fromKey, String toKey);

    /**
     * Index rows of the partition from {@code fromOffset} that point into objects whose keys lie
     * between the two keys (inclusive), in offset order; rows of batches kept in place with final
     * headers ({@link BatchLocation#finalInObject}) only {@code withFinalHeaders}.
     */
    List<BatchLocation> batchesInObjects(PartitionKey partition, String fromKey, String toKey, long fromOffset,
                                         int maxBatches, boolean withFinalHeaders);

    /**
     * The first {@code max} committed objects, in key order, whose keys lie after {@code afterKey} and
     * up to {@code toKey}, and that hold rows kept in place ({@link BatchLocation#finalInObject}).
     */
    List<WalFileUse> objectsWithRowsKeptInPlace(String afterKey, String toKey, int max);

    /** The rows kept in place ({@link BatchLocation#finalInObject}) in the object, per partition in offset order. */
    Map<PartitionKey, List<BatchLocation>> rowsKeptInPlaceIn(String objectKey);

    /** The partition's segment objects in offset order. */
    List<SegmentRecord> segments(PartitionKey partition);

    /**
     * Switches the index of a rewritten offset range in one transaction: the rows whose base offset
     * lies in {@code [fromOffset, toOffset]} are replaced by the new segments' rows and the rows
     * {@code keptInPlace} (runs of batches with final headers where they lie, recorded with
     * {@link BatchLocation#finalInObject} set), the segments are recorded as committed objects, and the segments in {@code replacedSegments} are forgotten as
     * segments (their objects are collected once nothing refers to them). Nothing changes, and false
     * is returned, unless exactly {@code expectedRows} rows are in the range (retention or a topic
     * deletion got there first).
     */
    boolean replaceBatches(PartitionKey partition, long fromOffset, long toOffset, int expectedRows,
                           List<NewSegment> segments, List<BatchLocation> keptInPlace, List<String> replacedSegments);

    /** Compaction's checkpoint of the partition: offsets below it have been compacted (0 if never). */
    long cleanOffset(PartitionKey partition);

    void setCleanOffset(PartitionKey partition, long offset);

    /** A producer id never handed out before. */
    long nextProducerId();

    /** Stores (replaces) a group's committed offsets, durably, in one transaction. */
    void commitOffsets(String groupId, List<CommittedOffset> offsets);

    /** Every group's committed offsets, read once at start-up. */
    Map<String, List<CommittedOffset>> committedOffsets();

    /** Deletes the given partitions' offsets of a group (all of them when {@code partitions} is null). */
    void deleteOffsets(String groupId, List<org.apache.kafka.common.TopicPartition> partitions);

    /** Deletes every group's offsets for a topic (the topic was deleted). */
    void deleteOffsetsOfTopic(String topic);

    /** Keys of every committed object. */
    Set<String> committedObjectKeys();

    @Override
    void close();
}
