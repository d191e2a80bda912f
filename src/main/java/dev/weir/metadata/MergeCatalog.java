package dev.weir.metadata;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The bookkeeping of merging and compaction: which objects hold rows not merged yet, the partitions'
 * segments, the switch of an offset range to rewritten objects, and compaction's checkpoints. One role
 * of the {@link MetadataStore}; thread-safe, every method may block on I/O and throws {@link
 * MetadataException} on failure.
 */
public interface MergeCatalog {
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
}
