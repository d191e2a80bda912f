package dev.weir.log;

import dev.weir.log.read.SendableRecords;

/** Batches of a partition ready to send, and the partition's offsets at read time. */
public record SendableRead(SendableRecords records, long highWatermark, long logStartOffset) {
}
