package dev.weir.log;

import dev.weir.log.batch.BatchValidator;
import dev.weir.log.batch.InvalidBatchException;
import dev.weir.log.batch.ValidatedBatch;
import dev.weir.log.policy.TopicLimits;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.utils.Crc32C;
import org.junit.jupiter.api.Timeout;

/**
 * Record-batch validation against any bytes produced for a partition: {@link #validate} wants a
 * {@link ValidatedBatch} or an {@link InvalidBatchException} carrying a Kafka error, never another
 * exception, and no more allocated than a multiple of the batch's size; {@link #matchesKafkaClients}
 * wants Weir's verdict to agree with kafka-clients' reading of the same bytes ({@link BatchDifferential}). Each input is judged under a few topics' limits, as
 * sent and with its length and CRC rewritten to fit it, so that mutations get past the checksum to
 * the checks behind it.
 *
 * <p>Input: the partition's records bytes of a produce request. Seeds (shared by both targets, in the
 * class's inputs directory): batches the Java producer sent, in every compression type.
 */
public class BatchValidatorFuzzTest {
    static final long NOW_MS = 1_800_000_000_000L;
    /** A lenient topic, a compacted log-append-time one, and one with a small size limit and close timestamp bounds. */
    static final List<TopicLimits> TOPICS = List.of(
        new TopicLimits(1 << 20, TimestampType.CREATE_TIME, Long.MAX_VALUE, Long.MAX_VALUE, false),
        new TopicLimits(1 << 20, TimestampType.LOG_APPEND_TIME, Long.MAX_VALUE, Long.MAX_VALUE, true),
        new TopicLimits(512, TimestampType.CREATE_TIME, 3_600_000L, 3_600_000L, false));

    /** Decompression buffers, which the validator keeps per thread once made (an LZ4 block is up to 4 MiB). */
    private static final long ALLOCATED_BYTES_BASE = 16L << 20;
    /** What a compressed byte may decompress to, and more (keys and values are skipped, not copied). */
    private static final long ALLOCATED_BYTES_PER_BATCH_BYTE = 64;
    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void validate(byte[] produced) {
        for (byte[] bytes : List.of(produced, withLengthAndCrcFitted(produced))) {
            for (TopicLimits topic : TOPICS) {
                long limit = ALLOCATED_BYTES_BASE + ALLOCATED_BYTES_PER_BATCH_BYTE * bytes.length;
                // Loading (and, while fuzzing, instrumenting) a class the input reaches for the first time
                // allocates on this thread too; only an input that allocates too much twice is a finding.
                if (validateCountingAllocation(bytes, topic) > limit && validateCountingAllocation(bytes, topic) > limit) {
                    throw new AssertionError("validating a batch of " + bytes.length + " bytes allocated more than " + limit
                        + " bytes, twice");
                }
            }
        }
    }

    /** Validates, checks the outcome, and returns the bytes the validation allocated. */
    private static long validateCountingAllocation(byte[] bytes, TopicLimits topic) {
        MemoryRecords records = MemoryRecords.readableRecords(ByteBuffer.wrap(bytes.clone()));
        long allocatedBefore = THREADS.getCurrentThreadAllocatedBytes();
        try {
            checkAccepted(BatchValidator.validate(records, topic, NOW_MS), bytes.length);
        } catch (InvalidBatchException e) {
            if (e.error() == null || e.error() == Errors.NONE || e.error() == Errors.UNKNOWN_SERVER_ERROR) {
                throw new AssertionError("an invalid batch must carry a specific Kafka error, not " + e.error(), e);
            }
        }
        return THREADS.getCurrentThreadAllocatedBytes() - allocatedBefore;
    }

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void matchesKafkaClients(byte[] produced) {
        for (byte[] bytes : List.of(produced, withLengthAndCrcFitted(produced))) {
            for (TopicLimits topic : TOPICS) {
                BatchDifferential.check(bytes, topic, NOW_MS);
            }
        }
    }

    private static void checkAccepted(ValidatedBatch batch, int producedBytes) {
        if (batch.sizeInBytes() != producedBytes || batch.offsetCount() < 1) {
            throw new AssertionError("accepted " + batch.sizeInBytes() + " of " + producedBytes + " bytes with "
                + batch.offsetCount() + " offsets");
        }
        DefaultRecordBatch stored = (DefaultRecordBatch) MemoryRecords.readableRecords(batch.bytes().duplicate())
            .batches().iterator().next();
        if (!stored.isValid()) {
            throw new AssertionError("the accepted batch's CRC is wrong");
        }
    }

    /**
     * The bytes with the batch length and CRC rewritten to fit them (when they are long enough to hold a
     * batch header), so that a mutation behind the header is judged by more than its checksum.
     */
    static byte[] withLengthAndCrcFitted(byte[] produced) {
        if (produced.length < DefaultRecordBatch.RECORD_BATCH_OVERHEAD) {
            return produced;
        }
        ByteBuffer bytes = ByteBuffer.wrap(produced.clone());
        bytes.putInt(8, produced.length - 12);
        int attributesAt = DefaultRecordBatch.CRC_OFFSET + 4;
        long crc = Crc32C.compute(bytes.array(), attributesAt, produced.length - attributesAt);
        bytes.putInt(DefaultRecordBatch.CRC_OFFSET, (int) crc);
        return bytes.array();
    }
}
