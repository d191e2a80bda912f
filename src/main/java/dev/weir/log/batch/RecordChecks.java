package dev.weir.log.batch;

import dev.weir.log.policy.TopicLimits;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * The checks every record of a produced batch must pass, however the records are read (walked in
 * place or decompressed): no more records than the header says, offset deltas 0..n-1, a key on
 * compacted topics, timestamps within the topic's bounds; and, at the end, as many records as the
 * header says. Collects the largest timestamp. Not thread-safe; one per batch.
 */
final class RecordChecks {
    private final TopicLimits limits;
    private final long nowMs;
    private final int expectedRecords;
    private int count;
    private long maxTimestamp = RecordBatch.NO_TIMESTAMP;

    /** {@code expectedRecords}: the record count of the batch's header (which its offset range was checked to match). */
    RecordChecks(TopicLimits limits, long nowMs, int expectedRecords) {
        this.limits = limits;
        this.nowMs = nowMs;
        this.expectedRecords = expectedRecords;
    }

    void record(int offsetDelta, boolean hasKey, long timestamp) {
        if (count == expectedRecords) {
            // As kafka-clients' reader (and so Kafka) finds it: records left after the count, whatever they hold.
            throw new InvalidBatchException(Errors.INVALID_RECORD, "The batch holds more records than its header's count of "
                + expectedRecords + ".");
        }
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

    /** Checks that the header's count of records were there; returns the largest timestamp. */
    long finish() {
        if (count != expectedRecords) {
            throw new InvalidBatchException(Errors.INVALID_RECORD, "The batch holds " + count
                + " records but its header says " + expectedRecords + ".");
        }
        return maxTimestamp;
    }
}
