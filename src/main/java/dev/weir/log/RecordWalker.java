package dev.weir.log;

import java.nio.ByteBuffer;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.ByteUtils;

/**
 * Checks the records of an uncompressed v2 batch in place, reading only their length fields (with
 * kafka-clients' varint readers) instead of building a record object with key, value and header
 * slices for each: every record must have a positive length that its fields fill exactly, offset
 * deltas 0..n-1, timestamps within the topic's bounds, and a key on compacted topics. This is the
 * produce path's hottest loop, so it allocates nothing. Stateless.
 */
final class RecordWalker {
    private RecordWalker() {
    }

    /**
     * Returns the largest record timestamp; throws InvalidBatchException on the first bad record.
     * {@code batchBytes} holds exactly the batch, from its remaining position (it is not moved).
     */
    static long walk(MutableRecordBatch batch, ByteBuffer batchBytes, TopicLimits limits, long nowMs) {
        ByteBuffer bytes = batchBytes.slice();
        int end = bytes.limit();
        bytes.position(DefaultRecordBatch.RECORD_BATCH_OVERHEAD);
        long baseTimestamp = ((DefaultRecordBatch) batch).baseTimestamp();
        boolean createTime = limits.timestampType() == TimestampType.CREATE_TIME;
        long maxTimestamp = RecordBatch.NO_TIMESTAMP;
        int count = 0;
        try {
            while (bytes.position() < end) {
                int length = ByteUtils.readVarint(bytes);
                int start = bytes.position();
                if (length <= 0 || length > end - start) {
                    throw corrupt("a record length of " + length + " does not fit the batch");
                }
                bytes.get();
                long timestamp = baseTimestamp + ByteUtils.readVarlong(bytes);
                int offsetDelta = ByteUtils.readVarint(bytes);
                if (offsetDelta != count) {
                    throw new InvalidBatchException(Errors.INVALID_RECORD, "Record offsets in the batch are not"
                        + " consecutive: expected delta " + count + ", got " + offsetDelta + ".");
                }
                int keyLength = skipBytes(bytes);
                if (limits.compacted() && keyLength < 0) {
                    throw new InvalidBatchException(Errors.INVALID_RECORD,
                        "Compacted topic cannot accept message without key.");
                }
                skipBytes(bytes);
                skipHeaders(bytes);
                if (bytes.position() != start + length) {
                    throw corrupt("a record's fields do not add up to its length");
                }
                if (createTime) {
                    BatchValidator.checkTimestamp(timestamp, limits, nowMs);
                }
                maxTimestamp = Math.max(maxTimestamp, timestamp);
                count++;
            }
        } catch (RuntimeException e) {
            if (e instanceof InvalidBatchException invalid) {
                throw invalid;
            }
            throw corrupt(e.toString());
        }
        if (count != (int) (batch.lastOffset() - batch.baseOffset()) + 1) {
            throw new InvalidBatchException(Errors.INVALID_RECORD, "The batch holds " + count
                + " records but its header says " + (batch.lastOffset() - batch.baseOffset() + 1) + ".");
        }
        return maxTimestamp;
    }

    /** Skips a varint-length-prefixed field (-1: null) and returns its length. */
    private static int skipBytes(ByteBuffer bytes) {
        int length = ByteUtils.readVarint(bytes);
        if (length < -1) {
            throw corrupt("a negative field length " + length);
        }
        if (length > 0) {
            bytes.position(bytes.position() + length);
        }
        return length;
    }

    private static void skipHeaders(ByteBuffer bytes) {
        int headers = ByteUtils.readVarint(bytes);
        if (headers < 0) {
            throw corrupt("a negative header count " + headers);
        }
        for (int i = 0; i < headers; i++) {
            if (skipBytes(bytes) < 0) {
                throw corrupt("a header without a key");
            }
            skipBytes(bytes);
        }
    }

    private static InvalidBatchException corrupt(String why) {
        return new InvalidBatchException(Errors.CORRUPT_MESSAGE, "A record in the batch is malformed: " + why + ".");
    }
}
