package dev.weir.log;

import dev.weir.log.batch.BatchValidator;
import dev.weir.log.batch.InvalidBatchException;
import dev.weir.log.batch.ValidatedBatch;
import dev.weir.log.policy.TopicLimits;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;

/** Each rule of Kafka's record-batch validation, with the error code a Kafka broker gives. */
class BatchValidatorTest {
    private static final long NOW = 1_700_000_000_000L;
    private static final TopicLimits LIMITS = new TopicLimits(1000, TimestampType.CREATE_TIME, Long.MAX_VALUE,
        3_600_000L, false);

    private static MemoryRecords records(Compression compression, long timestamp, byte[] key, int count) {
        SimpleRecord[] values = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            values[i] = new SimpleRecord(timestamp, key, ("value-" + i).getBytes());
        }
        return MemoryRecords.withRecords(compression, values);
    }

    private static Errors errorOf(MemoryRecords records, TopicLimits limits) {
        try {
            BatchValidator.validate(records, limits, NOW);
            return Errors.NONE;
        } catch (InvalidBatchException e) {
            return e.error();
        }
    }

    @Test
    void validBatchesPassWithTheirHeaderFields() {
        ValidatedBatch batch = BatchValidator.validate(records(Compression.zstd().build(), NOW - 5, "k".getBytes(), 4),
            LIMITS, NOW);
        assertThat(batch.offsetCount()).isEqualTo(4);
        assertThat(batch.maxTimestamp()).isEqualTo(NOW - 5);
        assertThat(batch.producerId()).isEqualTo(RecordBatch.NO_PRODUCER_ID);
    }

    @Test
    void aFlippedByteIsCorruptMessage() {
        MemoryRecords records = records(Compression.NONE, NOW, "k".getBytes(), 3);
        ByteBuffer buffer = records.buffer();
        buffer.put(buffer.limit() - 2, (byte) (buffer.get(buffer.limit() - 2) ^ 1));
        assertThat(errorOf(MemoryRecords.readableRecords(buffer), LIMITS)).isEqualTo(Errors.CORRUPT_MESSAGE);
    }

    @Test
    void aBatchAboveMaxMessageBytesIsMessageTooLarge() {
        assertThat(errorOf(records(Compression.NONE, NOW, "k".getBytes(), 100), LIMITS)).isEqualTo(Errors.MESSAGE_TOO_LARGE);
    }

    @Test
    void twoBatchesInOnePartitionAreInvalidRecord() {
        ByteBuffer one = records(Compression.NONE, NOW, "k".getBytes(), 1).buffer();
        ByteBuffer two = ByteBuffer.allocate(one.remaining() * 2);
        two.put(one.duplicate()).put(one.duplicate()).flip();
        assertThat(errorOf(MemoryRecords.readableRecords(two), LIMITS)).isEqualTo(Errors.INVALID_RECORD);
    }

    @Test
    void oldMagicIsUnsupportedForMessageFormat() {
        MemoryRecords legacy = MemoryRecords.withRecords(RecordBatch.MAGIC_VALUE_V1, 0L, Compression.NONE,
            new SimpleRecord(NOW, "k".getBytes(), "v".getBytes()));
        assertThat(errorOf(legacy, LIMITS)).isEqualTo(Errors.UNSUPPORTED_FOR_MESSAGE_FORMAT);
    }

    @Test
    void timestampsTooFarInTheFutureAreInvalidTimestamp() {
        assertThat(errorOf(records(Compression.NONE, NOW + 7_200_000L, "k".getBytes(), 1), LIMITS))
            .isEqualTo(Errors.INVALID_TIMESTAMP);
        TopicLimits strictPast = new TopicLimits(1000, TimestampType.CREATE_TIME, 1000, 1000, false);
        assertThat(errorOf(records(Compression.NONE, NOW - 5000, "k".getBytes(), 1), strictPast))
            .isEqualTo(Errors.INVALID_TIMESTAMP);
    }

    @Test
    void aNonZeroBaseOffsetIsInvalidRecord() {
        MemoryRecords records = MemoryRecords.withRecords(5L, Compression.NONE,
            new SimpleRecord(NOW, "k".getBytes(), "v".getBytes()));
        assertThat(errorOf(records, LIMITS)).isEqualTo(Errors.INVALID_RECORD);
    }

    @Test
    void compactedTopicsNeedKeys() {
        TopicLimits compacted = new TopicLimits(1000, TimestampType.CREATE_TIME, Long.MAX_VALUE, 3_600_000L, true);
        assertThat(errorOf(records(Compression.NONE, NOW, null, 1), compacted)).isEqualTo(Errors.INVALID_RECORD);
        assertThat(errorOf(records(Compression.NONE, NOW, "k".getBytes(), 1), compacted)).isEqualTo(Errors.NONE);
    }

    @Test
    void logAppendTimeRestampsTheBatchAndKeepsItsCrcValid() {
        TopicLimits appendTime = new TopicLimits(1000, TimestampType.LOG_APPEND_TIME, Long.MAX_VALUE, 0, false);
        ValidatedBatch batch = BatchValidator.validate(records(Compression.NONE, 5, "k".getBytes(), 2), appendTime, NOW);
        assertThat(batch.maxTimestamp()).isEqualTo(NOW);
        RecordBatch stored = MemoryRecords.readableRecords(batch.bytes()).batches().iterator().next();
        assertThat(stored.isValid()).isTrue();
        assertThat(stored.timestampType()).isEqualTo(TimestampType.LOG_APPEND_TIME);
        assertThatThrownBy(() -> BatchValidator.validate(MemoryRecords.EMPTY, LIMITS, NOW))
            .isInstanceOf(InvalidBatchException.class);
    }

    /** Rewrites the CRC after a test changed bytes under it, so only the record walk can catch the change. */
    private static MemoryRecords resealed(ByteBuffer buffer) {
        long crc = org.apache.kafka.common.utils.Crc32C.compute(buffer, 21, buffer.limit() - 21);
        org.apache.kafka.common.utils.ByteUtils.writeUnsignedInt(buffer, 17, crc);
        return MemoryRecords.readableRecords(buffer);
    }

    @Test
    void aRecordOutOfOffsetOrderIsInvalidRecordEvenWithAValidCrc() {
        ByteBuffer buffer = records(Compression.NONE, NOW, "k".getBytes(), 3).buffer();
        ByteBuffer walk = buffer.duplicate().position(61);
        int firstLength = org.apache.kafka.common.utils.ByteUtils.readVarint(walk);
        int second = walk.position() + firstLength;
        // Second record: length (1 byte), attributes, timestamp delta 0 (1 byte), then its offset delta.
        buffer.put(second + 3, (byte) (5 << 1));
        assertThat(errorOf(resealed(buffer), LIMITS)).isEqualTo(Errors.INVALID_RECORD);
    }

    @Test
    void aRecordLengthThatDoesNotFitIsCorruptMessageEvenWithAValidCrc() {
        ByteBuffer buffer = records(Compression.NONE, NOW, "k".getBytes(), 2).buffer();
        buffer.put(61, (byte) (100 << 1));
        assertThat(errorOf(resealed(buffer), LIMITS)).isEqualTo(Errors.CORRUPT_MESSAGE);
    }

    /** Sets the timestamp-type bit as a producer may, whatever the topic says. */
    private static MemoryRecords withLogAppendTimeBit(MemoryRecords records) {
        ByteBuffer buffer = records.buffer();
        buffer.putShort(21, (short) (buffer.getShort(21) | 0x08));
        return resealed(buffer);
    }

    @Test
    void aBatchMarkedLogAppendTimeIsStoredAsCreateTimeOnACreateTimeTopic() {
        // The header's max timestamp already equals the records', so only the timestamp type needs rewriting.
        ValidatedBatch batch = BatchValidator.validate(withLogAppendTimeBit(records(Compression.NONE, NOW, "k".getBytes(), 2)),
            LIMITS, NOW);
        RecordBatch stored = MemoryRecords.readableRecords(batch.bytes()).batches().iterator().next();
        assertThat(stored.timestampType()).isEqualTo(TimestampType.CREATE_TIME);
        assertThat(stored.isValid()).isTrue();
    }

    @Test
    void aBatchMarkedLogAppendTimeHasItsRecordsTimedAlikeWhetherCompressedOrNot() {
        for (Compression compression : java.util.List.of(Compression.NONE, Compression.gzip().build())) {
            MemoryRecords records = records(compression, NOW - 10, "k".getBytes(), 2);
            records.buffer().putLong(35, NOW - 3);
            // Read as kafka-clients reads them, every record of such a batch has the header's max timestamp.
            assertThat(BatchValidator.validate(withLogAppendTimeBit(records), LIMITS, NOW).maxTimestamp())
                .as(compression.type().name).isEqualTo(NOW - 3);
        }
    }

    @Test
    void aSnappyStreamWithABadChunkSizeIsCorruptMessage() {
        for (int chunkSize : new int[] {-30, 600 << 20}) {
            ByteBuffer buffer = records(Compression.snappy().build(), NOW, "k".getBytes(), 3).buffer();
            // snappy-java's stream: a 16-byte header, then each chunk's compressed size and bytes.
            buffer.putInt(61 + 16, chunkSize);
            assertThat(errorOf(resealed(buffer), LIMITS)).as("chunk size " + chunkSize).isEqualTo(Errors.CORRUPT_MESSAGE);
        }
    }

    @Test
    void snappySizesThatCannotBeRightAreCorruptMessageBeforeAnythingIsAllocatedForThem() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)
            java.lang.management.ManagementFactory.getThreadMXBean();
        for (int chunkSize : new int[] {400 << 20, 200}) {
            ByteBuffer buffer = records(Compression.snappy().build(), NOW, "k".getBytes(), 3).buffer();
            buffer.putInt(61 + 16, chunkSize);
            long before = threads.getCurrentThreadAllocatedBytes();
            assertThat(errorOf(resealed(buffer), LIMITS)).as("chunk size " + chunkSize).isEqualTo(Errors.CORRUPT_MESSAGE);
            assertThat(threads.getCurrentThreadAllocatedBytes() - before).as("bytes allocated").isLessThan(4 << 20);
        }
        // A snappy block without snappy-java's stream header, claiming 400 MiB.
        ByteBuffer raw = ByteBuffer.allocate(61 + 8);
        raw.put(records(Compression.snappy().build(), NOW, "k".getBytes(), 1).buffer().limit(61)).put(new byte[] {
            (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0xc8, 0x01, 0, 0, 0});
        raw.putInt(8, raw.capacity() - 12).flip();
        long before = threads.getCurrentThreadAllocatedBytes();
        assertThat(errorOf(resealed(raw), LIMITS)).isEqualTo(Errors.CORRUPT_MESSAGE);
        assertThat(threads.getCurrentThreadAllocatedBytes() - before).as("bytes allocated").isLessThan(4 << 20);
    }

    @Test
    void snappyBatchesOfManyChunksOrWithoutAStreamHeaderPass() throws java.io.IOException {
        // 256 KiB of values: snappy-java's stream cuts them into several chunks.
        SimpleRecord[] values = new SimpleRecord[64];
        for (int i = 0; i < values.length; i++) {
            byte[] value = new byte[4096];
            new java.util.Random(i).nextBytes(value);
            values[i] = new SimpleRecord(NOW, "k".getBytes(), value);
        }
        TopicLimits large = new TopicLimits(1 << 20, TimestampType.CREATE_TIME, Long.MAX_VALUE, 3_600_000L, false);
        assertThat(errorOf(MemoryRecords.withRecords(Compression.snappy().build(), values), large)).isEqualTo(Errors.NONE);
        // The same records as one snappy block with no stream header, as some clients compress.
        ByteBuffer plain = MemoryRecords.withRecords(Compression.NONE, values).buffer();
        byte[] recordBytes = java.util.Arrays.copyOfRange(plain.array(), 61, plain.limit());
        byte[] block = org.xerial.snappy.Snappy.compress(recordBytes);
        ByteBuffer raw = ByteBuffer.allocate(61 + block.length);
        raw.put(plain.duplicate().limit(61)).put(block);
        raw.putInt(8, raw.capacity() - 12);
        raw.putShort(21, (short) (raw.getShort(21) | 2));
        assertThat(errorOf(resealed(raw.flip()), large)).isEqualTo(Errors.NONE);
    }

    @Test
    void fewerThanFourBytesAfterTheLastSnappyChunkEndTheStreamAsSnappyJavaReadsIt() {
        ByteBuffer built = records(Compression.snappy().build(), NOW, "k".getBytes(), 3).buffer();
        ByteBuffer extended = ByteBuffer.allocate(built.remaining() + 3).put(built).put(new byte[] {7, 7, 7});
        extended.putInt(8, extended.capacity() - 12).flip();
        assertThat(errorOf(resealed(extended), LIMITS)).isEqualTo(Errors.NONE);
    }

    @Test
    void recordsBeyondTheHeadersCountAreInvalidRecordBeforeAnythingElseAboutThem() {
        // Three records under a header that says two; the third one's timestamp is also out of bounds.
        ByteBuffer buffer = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(NOW, "k".getBytes(), "a".getBytes()),
            new SimpleRecord(NOW, "k".getBytes(), "b".getBytes()),
            new SimpleRecord(NOW + 7_200_000L, "k".getBytes(), "c".getBytes())).buffer();
        buffer.putInt(23, 1).putInt(57, 2);
        // As Kafka answers: kafka-clients' reader finds records left after the count (InvalidRecordException).
        assertThat(errorOf(resealed(buffer), LIMITS)).isEqualTo(Errors.INVALID_RECORD);
    }
}
