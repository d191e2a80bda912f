package dev.weir.log;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.DefaultRecord;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.BufferSupplier;
import org.apache.kafka.common.utils.ByteUtils;
import org.apache.kafka.common.utils.CloseableIterator;

/**
 * What kafka-clients makes of one partition's produced bytes, read as a consumer reads fetched
 * records: the batches {@link MemoryRecords} finds, and of the first one its header fields, whether
 * {@code ensureValid} passes and every record, decompressed and read whole (key, value and headers,
 * within the record's length) by kafka-clients' {@link DefaultRecord} reader, as the batch's iterator
 * reads them. Nothing here comes from Weir's code.
 *
 * <p>When a consumer cannot read a compressed batch's records, they are read once more with the
 * iterator that skips keys, values and headers without checking record lengths, which is how
 * Kafka's broker validates compressed batches it stores as they are; {@link #inPlaceReadable} says
 * whether that worked.
 */
final class ClientsReading {
    /** One record of the first batch. */
    record RecordFacts(int offsetDelta, long timestamp, boolean hasKey) {
    }

    final int sizeInBytes;
    /** Why a consumer cannot read the bytes; null when it can. */
    String unreadable;
    /** A consumer cannot read the compressed records, but the broker's in-place reader can. */
    boolean inPlaceReadable;
    int batchCount;
    /** Bytes after the last whole batch (a partial batch, which a consumer ignores). */
    int leftoverBytes;
    /** The first batch; null when there is none. */
    MutableRecordBatch first;
    /** The first batch's records; when they cannot all be read, those read before the failure. */
    final List<RecordFacts> records = new ArrayList<>();
    /** The error Kafka answers for what made the bytes unreadable, when kafka-clients threw one of its own. */
    Errors unreadableError;
    /**
     * An uncompressed record has a key, value or header-value length below -1, which kafka-clients
     * reads as null (only -1 means null in the format).
     */
    boolean lengthBelowMinusOne;

    /** Decompressed records beyond this are not read (a mutated batch can claim a lot). */
    static final int MAX_DECOMPRESSED_BYTES = 16 << 20;

    /** The records decompress to more than {@link #MAX_DECOMPRESSED_BYTES}; nothing is judged. */
    static final class TooLargeToJudge extends RuntimeException {
        TooLargeToJudge() {
            super("decompresses to more than " + MAX_DECOMPRESSED_BYTES + " bytes", null, false, false);
        }
    }

    private ClientsReading(int sizeInBytes) {
        this.sizeInBytes = sizeInBytes;
    }

    static ClientsReading of(byte[] produced) {
        ClientsReading reading = new ClientsReading(produced.length);
        try {
            reading.read(produced);
        } catch (RuntimeException | Error e) {
            reading.unreadable(e);
        }
        return reading;
    }

    private void unreadable(Throwable e) {
        if (e instanceof TooLargeToJudge tooLarge) {
            throw tooLarge;
        }
        unreadable = unlessFatal(e).toString();
        // InvalidRecordException is INVALID_RECORD, CorruptRecordException CORRUPT_MESSAGE.
        unreadableError = e instanceof ApiException ? Errors.forException(e) : null;
    }

    boolean readable() {
        return unreadable == null;
    }

    /** Whether there are records to judge: read by a consumer, or at least by the in-place reader. */
    boolean recordsRead() {
        return readable() || inPlaceReadable;
    }

    private void read(byte[] produced) {
        int covered = 0;
        Iterator<MutableRecordBatch> batches = MemoryRecords.readableRecords(ByteBuffer.wrap(produced.clone()))
            .batches().iterator();
        while (batches.hasNext()) {
            MutableRecordBatch batch = batches.next();
            if (first == null) {
                first = batch;
            }
            batchCount++;
            covered += batch.sizeInBytes();
        }
        leftoverBytes = produced.length - covered;
        if (first == null || first.magic() != RecordBatch.MAGIC_VALUE_V2) {
            return;
        }
        first.ensureValid();
        readRecords((DefaultRecordBatch) first, ByteBuffer.wrap(produced, 0, first.sizeInBytes()).slice());
    }

    private void readRecords(DefaultRecordBatch batch, ByteBuffer bytes) {
        boolean compressed = batch.compressionType() != CompressionType.NONE;
        try {
            readFrom(batch, compressed ? decompress(batch) : recordsOf(bytes));
        } catch (RuntimeException | Error e) {
            unreadable(e);
            if (compressed) {
                readInPlace(batch);
            }
            return;
        }
        if (!compressed) {
            lengthBelowMinusOne = LengthScan.anyBelowMinusOne(recordsOf(bytes), records.size());
        }
    }

    private static ByteBuffer recordsOf(ByteBuffer batchBytes) {
        return batchBytes.duplicate().position(DefaultRecordBatch.RECORD_BATCH_OVERHEAD).slice();
    }

    /**
     * Decompresses a batch's records into memory. The consumer's stream reader in this kafka-clients release
     * allocates each record's declared length before reading it, so a mutated length of 2 GiB would take the
     * test down; the buffer reader finds such a record longer than what is left.
     */
    private static ByteBuffer decompress(DefaultRecordBatch batch) {
        byte[] decompressed;
        try (java.io.InputStream in = batch.recordInputStream(BufferSupplier.NO_CACHING)) {
            decompressed = in.readNBytes(MAX_DECOMPRESSED_BYTES + 1);
        } catch (java.io.IOException e) {
            throw new org.apache.kafka.common.KafkaException("Failed to decompress record stream", e);
        }
        if (decompressed.length > MAX_DECOMPRESSED_BYTES) {
            throw new TooLargeToJudge();
        }
        return ByteBuffer.wrap(decompressed);
    }

    /**
     * Reads the header's count of records from {@code records} with kafka-clients' record reader, as the
     * batch's iterator does (a negative count, a record cut short and records left after the count are
     * what it rejects), keeping each record's facts as soon as it is read.
     */
    private void readFrom(DefaultRecordBatch batch, ByteBuffer recordBytes) {
        int count = batch.countOrNull();
        if (count < 0) {
            throw new org.apache.kafka.common.InvalidRecordException("Found invalid record count " + count);
        }
        Long logAppendTime = batch.timestampType() == org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME
            ? batch.maxTimestamp() : null;
        for (int i = 0; i < count; i++) {
            Record record;
            try {
                record = DefaultRecord.readFrom(recordBytes, batch.baseOffset(), batch.baseTimestamp(), batch.baseSequence(),
                    logAppendTime);
            } catch (java.nio.BufferUnderflowException e) {
                throw new org.apache.kafka.common.InvalidRecordException("Incorrect declared batch size, premature EOF reached");
            }
            records.add(new RecordFacts((int) (record.offset() - batch.baseOffset()), record.timestamp(), record.hasKey()));
        }
        if (count > 0 && recordBytes.hasRemaining()) {
            throw new org.apache.kafka.common.InvalidRecordException(
                "Incorrect declared batch size, records still remaining in file");
        }
    }

    /** Reads the records again as Kafka's broker does with compressed batches it keeps as they are. */
    private void readInPlace(DefaultRecordBatch batch) {
        records.clear();
        if (batch.countOrNull() < 0) {
            // The in-place reader refuses a negative count too, but only after it opened the decompressing stream,
            // which it then never closes (zstd-jni's is native memory): leave it unread.
            return;
        }
        try {
            readWith(batch.skipKeyValueIterator(BufferSupplier.NO_CACHING));
            inPlaceReadable = true;
        } catch (RuntimeException | Error e) {
            unlessFatal(e);
        }
    }

    private void readWith(CloseableIterator<Record> iterator) {
        try (iterator) {
            while (iterator.hasNext()) {
                Record record = iterator.next();
                records.add(new RecordFacts((int) (record.offset() - first.baseOffset()), record.timestamp(), record.hasKey()));
            }
        }
    }

    /** Errors that say the JVM is in trouble are not a verdict on the bytes. */
    private static Throwable unlessFatal(Throwable e) {
        if (e instanceof VirtualMachineError fatal) {
            throw fatal;
        }
        return e;
    }

    /** Reads the varint lengths of records that kafka-clients has already read whole, looking for odd negative ones. */
    private static final class LengthScan {
        static boolean anyBelowMinusOne(ByteBuffer bytes, int recordCount) {
            boolean found = false;
            for (int i = 0; i < recordCount; i++) {
                ByteUtils.readVarint(bytes);
                bytes.get();
                ByteUtils.readVarlong(bytes);
                ByteUtils.readVarint(bytes);
                found |= skip(bytes) < -1;
                found |= skip(bytes) < -1;
                int headers = ByteUtils.readVarint(bytes);
                for (int h = 0; h < headers; h++) {
                    skip(bytes);
                    found |= skip(bytes) < -1;
                }
            }
            return found;
        }

        private static int skip(ByteBuffer bytes) {
            int length = ByteUtils.readVarint(bytes);
            if (length > 0) {
                bytes.position(bytes.position() + length);
            }
            return length;
        }
    }
}
