package dev.weir.metadata;

import java.util.List;
import java.util.Optional;

/**
 * Where the batches of a partition lie, for reads: by offset and by timestamp. One role of the {@link
 * MetadataStore}; thread-safe, every method may block on I/O and throws {@link MetadataException} on
 * failure.
 */
public interface BatchIndex {
    /** Batches of the partition whose last offset is at or after {@code offset}, in offset order. */
    List<BatchLocation> batchesFrom(PartitionKey partition, long offset, int maxBatches);

    /** The first batch holding a record with timestamp at or after {@code timestamp}. */
    Optional<BatchLocation> firstBatchWithTimestampAtLeast(PartitionKey partition, long timestamp, long fromOffset);

    /** The batch holding the partition's largest timestamp (the earliest such batch). */
    Optional<BatchLocation> batchWithMaxTimestamp(PartitionKey partition, long fromOffset);

    /** The bytes of the partition's indexed batches. */
    long partitionBytes(PartitionKey partition);
}
