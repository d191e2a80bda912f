package dev.weir.log.batch;

import dev.weir.log.policy.TopicLimits;
import java.nio.ByteBuffer;
import java.util.Iterator;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.Records;
import org.apache.kafka.common.utils.BufferSupplier;
import org.apache.kafka.common.utils.CloseableIterator;

/**
 * Checks a produced partition's records as a Kafka broker does (LogValidator): exactly one batch of
 * magic 2, size within max.message.bytes, a valid CRC32C, a known compression codec, offset deltas
 * 0..n-1, producer fields that make sense, timestamps within the topic's bounds, and keys on compacted
 * topics. Bytes that kafka-clients cannot read without an unchecked exception (which Kafka's own
 * broker answers with UNKNOWN_SERVER_ERROR) get the error Kafka gives the same fault where it sees it:
 * INVALID_RECORD for a batch length past the data, CORRUPT_MESSAGE for an unknown codec.
 * Stateless; the decompression buffers are per thread.
 */
public final class BatchValidator {
    private static final ThreadLocal<BufferSupplier> BUFFERS = ThreadLocal.withInitial(BufferSupplier::create);

    private BatchValidator() {
    }

    public static ValidatedBatch validate(MemoryRecords records, TopicLimits limits, long nowMs) {
        ByteBuffer buffer = records.buffer();
        if (buffer.remaining() < Records.HEADER_SIZE_UP_TO_MAGIC) {
            throw new InvalidBatchException(Errors.CORRUPT_MESSAGE, "The produced records are too short to hold a batch.");
        }
        // A length that runs past the data leaves no whole batch, which Kafka answers with INVALID_RECORD. Checked
        // here because kafka-clients adds the length to the position in an int, and a length near 2^31 wraps and
        // fails with an IllegalArgumentException (Kafka's broker then answers UNKNOWN_SERVER_ERROR).
        long length = buffer.getInt(buffer.position() + Records.SIZE_OFFSET);
        if (Records.LOG_OVERHEAD + length > buffer.remaining()) {
            throw new InvalidBatchException(Errors.INVALID_RECORD, "The batch length of " + length
                + " bytes runs past the " + buffer.remaining() + " bytes sent.");
        }
        Iterator<MutableRecordBatch> batches = records.batches().iterator();
        MutableRecordBatch batch;
        try {
            if (!batches.hasNext()) {
                throw new InvalidBatchException(Errors.INVALID_RECORD, "The produce request holds no record batch.");
            }
            batch = batches.next();
            if (batch.magic() != RecordBatch.MAGIC_VALUE_V2) {
                throw new InvalidBatchException(Errors.UNSUPPORTED_FOR_MESSAGE_FORMAT,
                    "Produce requests of version 3 and above must use record batch format v2 (magic 2).");
            }
            if (batches.hasNext()) {
                throw new InvalidBatchException(Errors.INVALID_RECORD,
                    "Produce requests of version 3 and above must hold exactly one record batch per partition.");
            }
        } catch (CorruptRecordException e) {
            throw new InvalidBatchException(Errors.CORRUPT_MESSAGE, e.getMessage());
        }
        if (batch.sizeInBytes() != buffer.remaining()) {
            throw new InvalidBatchException(Errors.CORRUPT_MESSAGE, "The batch length does not match the data sent.");
        }
        if (batch.sizeInBytes() > limits.maxMessageBytes()) {
            throw new InvalidBatchException(Errors.MESSAGE_TOO_LARGE, "The batch of " + batch.sizeInBytes()
                + " bytes is larger than the topic's max.message.bytes of " + limits.maxMessageBytes() + ".");
        }
        if (!batch.isValid()) {
            throw new InvalidBatchException(Errors.CORRUPT_MESSAGE, "The batch's CRC does not match its contents.");
        }
        checkHeader(batch);
        long maxTimestamp = checkRecords(batch, buffer, limits, nowMs);
        long logAppendTime = -1;
        if (limits.timestampType() == TimestampType.LOG_APPEND_TIME) {
            logAppendTime = nowMs;
            maxTimestamp = nowMs;
            batch.setMaxTimestamp(TimestampType.LOG_APPEND_TIME, nowMs);
        }
        return new ValidatedBatch(buffer.slice(), lastOffsetDelta(batch) + 1, maxTimestamp, batch.producerId(),
            batch.producerEpoch(), batch.baseSequence(), logAppendTime);
    }

    private static void checkHeader(MutableRecordBatch batch) {
        checkCompression(batch);
        if (batch.baseOffset() != 0) {
            throw new InvalidBatchException(Errors.INVALID_RECORD,
                "The base offset of a produced batch must be 0, got " + batch.baseOffset() + ".");
        }
        int offsetCount = lastOffsetDelta(batch) + 1;
        Integer count = batch.countOrNull();
        if (count == null || count <= 0 || offsetCount != count) {
            throw new InvalidBatchException(Errors.INVALID_RECORD, "The batch's record count " + count
                + " does not match its offset range of " + offsetCount + ".");
        }
        if (batch.isControlBatch()) {
            throw new InvalidBatchException(Errors.INVALID_RECORD, "Clients may not produce control batches.");
        }
        if (batch.isTransactional()) {
            throw new InvalidBatchException(Errors.TRANSACTIONAL_ID_NOT_FOUND,
                "Transactional produce is not supported by this broker yet.");
        }
        if (batch.hasProducerId() && batch.baseSequence() < 0) {
            throw new InvalidBatchException(Errors.INVALID_RECORD,
                "An idempotent batch must carry a sequence number, got " + batch.baseSequence() + ".");
        }
        if (!batch.hasProducerId() && batch.producerId() != RecordBatch.NO_PRODUCER_ID) {
            throw new InvalidBatchException(Errors.INVALID_RECORD, "Bad producer id " + batch.producerId() + ".");
        }
    }

    /** Codec ids 5 to 7 name no codec; kafka-clients answers them with an IllegalArgumentException. */
    private static void checkCompression(MutableRecordBatch batch) {
        try {
            batch.compressionType();
        } catch (IllegalArgumentException e) {
            throw new InvalidBatchException(Errors.CORRUPT_MESSAGE, "The batch's attributes name no known compression"
                + " codec: " + e.getMessage() + ".");
        }
    }

    /** Checks every record and returns the largest timestamp, correcting the header's if it differs. */
    private static long checkRecords(MutableRecordBatch batch, ByteBuffer bytes, TopicLimits limits, long nowMs) {
        RecordChecks checks = new RecordChecks(limits, nowMs, lastOffsetDelta(batch) + 1);
        if (batch.compressionType() == org.apache.kafka.common.record.internal.CompressionType.NONE) {
            RecordWalker.walk(batch, bytes, checks);
        } else {
            if (batch.compressionType() == org.apache.kafka.common.record.internal.CompressionType.SNAPPY) {
                SnappySizes.check(bytes.duplicate().position(bytes.position() + DefaultRecordBatch.RECORD_BATCH_OVERHEAD));
            }
            checkDecompressedRecords(batch, checks);
        }
        long maxTimestamp = checks.finish();
        if (limits.timestampType() == TimestampType.CREATE_TIME) {
            // As Kafka does: the header gets the records' largest timestamp and the topic's timestamp type, even
            // when only the type differs (a producer may mark its batch log-append time); the CRC is redone if
            // anything changed.
            batch.setMaxTimestamp(TimestampType.CREATE_TIME, maxTimestamp);
        }
        return maxTimestamp;
    }

    /** Walks the records of a compressed batch through kafka-clients' decompressing iterator. */
    private static void checkDecompressedRecords(MutableRecordBatch batch, RecordChecks checks) {
        try (CloseableIterator<Record> records = batch.skipKeyValueIterator(BUFFERS.get())) {
            while (records.hasNext()) {
                Record record = records.next();
                checks.record((int) (record.offset() - batch.baseOffset()), record.hasKey(), record.timestamp());
            }
        } catch (CorruptRecordException | IllegalArgumentException | IllegalStateException e) {
            throw new InvalidBatchException(Errors.CORRUPT_MESSAGE, "A record in the batch is malformed: " + e.getMessage());
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new InvalidBatchException(Errors.CORRUPT_MESSAGE, "The batch cannot be read: " + e.getMessage());
        } catch (VirtualMachineError | LinkageError e) {
            throw e;
        } catch (Error e) {
            // snappy-java reports a corrupt stream (a bad chunk size, say) with SnappyError, an Error.
            throw new InvalidBatchException(Errors.CORRUPT_MESSAGE, "The batch cannot be decompressed: " + e.getMessage());
        }
    }

    static void checkTimestamp(long timestamp, TopicLimits limits, long nowMs) {
        if (timestamp < 0 && timestamp != RecordBatch.NO_TIMESTAMP) {
            throw new InvalidBatchException(Errors.INVALID_TIMESTAMP, "Invalid negative timestamp " + timestamp + ".");
        }
        if (timestamp == RecordBatch.NO_TIMESTAMP) {
            return;
        }
        if (nowMs - timestamp > limits.timestampBeforeMaxMs()) {
            throw new InvalidBatchException(Errors.INVALID_TIMESTAMP, "Timestamp " + timestamp
                + " is more than message.timestamp.before.max.ms (" + limits.timestampBeforeMaxMs() + ") in the past.");
        }
        if (timestamp - nowMs > limits.timestampAfterMaxMs()) {
            throw new InvalidBatchException(Errors.INVALID_TIMESTAMP, "Timestamp " + timestamp
                + " is more than message.timestamp.after.max.ms (" + limits.timestampAfterMaxMs() + ") in the future.");
        }
    }

    private static int lastOffsetDelta(MutableRecordBatch batch) {
        return (int) (batch.lastOffset() - batch.baseOffset());
    }
}
