package dev.weir.log.batch;

import java.nio.ByteBuffer;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.utils.ByteUtils;

/**
 * Reads the records of an uncompressed v2 batch in place, only their length fields (with
 * kafka-clients' varint readers), instead of building a record object with key, value and header
 * slices for each: every record must have a positive length that its fields fill exactly; what a
 * record must be beyond that is checked by {@link RecordChecks}. This is the produce path's hottest
 * loop, so it allocates nothing. Stateless.
 */
final class RecordWalker {
    private RecordWalker() {
    }

    /**
     * Feeds every record's offset delta, key presence and timestamp to {@code checks}; throws
     * InvalidBatchException on a malformed record. {@code batchBytes} holds exactly the batch, from its
     * remaining position (it is not moved).
     */
    static void walk(MutableRecordBatch batch, ByteBuffer batchBytes, RecordChecks checks) {
        ByteBuffer bytes = batchBytes.slice();
        int end = bytes.limit();
        bytes.position(DefaultRecordBatch.RECORD_BATCH_OVERHEAD);
        long baseTimestamp = ((DefaultRecordBatch) batch).baseTimestamp();
        // In a batch marked log-append time every record has the header's max timestamp, as kafka-clients reads
        // it (and as the compressed path, which reads through kafka-clients, sees it).
        boolean logAppendTime = batch.timestampType() == TimestampType.LOG_APPEND_TIME;
        long logAppendTimestamp = batch.maxTimestamp();
        try {
            while (bytes.position() < end) {
                int length = ByteUtils.readVarint(bytes);
                int start = bytes.position();
                if (length <= 0 || length > end - start) {
                    throw corrupt("a record length of " + length + " does not fit the batch");
                }
                bytes.get();
                long timestampDelta = ByteUtils.readVarlong(bytes);
                long timestamp = logAppendTime ? logAppendTimestamp : baseTimestamp + timestampDelta;
                int offsetDelta = ByteUtils.readVarint(bytes);
                int keyLength = skipBytes(bytes);
                skipBytes(bytes);
                skipHeaders(bytes);
                if (bytes.position() != start + length) {
                    throw corrupt("a record's fields do not add up to its length");
                }
                checks.record(offsetDelta, keyLength >= 0, timestamp);
            }
        } catch (InvalidBatchException invalid) {
            throw invalid;
        } catch (RuntimeException e) {
            throw corrupt(e.toString());
        }
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
