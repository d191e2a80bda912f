package dev.weir.log;

import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * The checks every record of a produced batch must pass, however the records are read (walked in
 * place or decompressed): offset deltas 0..n-1, a key on compacted topics, timestamps within the
 * topic's bounds; and, at the end, as many records as the header says. Collects the largest
 * timestamp. Not thread-safe; one per batch.
 */
final class RecordChecks {
    private final TopicLimits limits;
    private final long nowMs;
    private int count;
    private long maxTimestamp = RecordBatch.NO_TIMESTAMP;

    RecordChecks(TopicLimits limits, long nowMs) {
        this.limits = limits;
        this.nowMs = nowMs;
    }

    void record(int offsetDelta, boolean hasKey, long timestamp) {
        if (offsetDelta != count) {
            throw new InvalidBatchException(Errors.INVALID_RECORD, "Record offsets in the batch are not"
                + " consecutive: expected delta " + count + ", got " + offsetDelta + ".");
        }
        if (limits.compacted() && !hasKey) {
            throw new InvalidBatchException(Errors.INVALID_RECORD, "Compacted topic cannot accept message without key.");
        }
        if (limits.timestampType() == TimestampType.CREATE_TIME) {
            BatchValidator.checkTimestamp(timestamp, limits, nowMs);
        }
        maxTimestamp = Math.max(maxTimestamp, timestamp);
        count++;
    }

    /** Checks the record count against the header's offset range; returns the largest timestamp. */
    long finish(int lastOffsetDelta) {
        if (count != lastOffsetDelta + 1) {
            throw new InvalidBatchException(Errors.INVALID_RECORD, "The batch holds " + count
                + " records but its header says " + (lastOffsetDelta + 1) + ".");
        }
        return maxTimestamp;
    }
}
