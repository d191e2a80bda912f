package dev.weir.log;

import org.apache.kafka.common.record.internal.MemoryRecords;

/** Batches read from a partition, with their base offsets written in, and the offsets at read time. */
public record ReadResult(MemoryRecords records, long highWatermark, long logStartOffset) {
}
