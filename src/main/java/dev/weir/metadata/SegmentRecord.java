package dev.weir.metadata;

/** A per-partition segment object: the offsets it was written with and its size in bytes. */
public record SegmentRecord(String objectKey, PartitionKey partition, long baseOffset, long lastOffset, long size,
                            long createdMs) {
}
