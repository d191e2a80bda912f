package dev.weir.log;

import dev.weir.log.batch.BatchValidator;
import dev.weir.log.batch.InvalidBatchException;
import dev.weir.log.batch.ValidatedBatch;
import dev.weir.log.policy.TopicLimits;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.Set;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.Records;

/**
 * Weir's {@link BatchValidator} against kafka-clients' reading of the same produced bytes
 * ({@link ClientsReading}). Weir must accept exactly what kafka-clients reads and breaks none of the
 * broker's rules in {@link #brokenRules} (rules a broker keeps and a client reading records has no
 * reason to: one batch of magic 2, offsets and count, producer fields, size and timestamp limits,
 * keys on compacted topics); what it accepts must carry the header fields and records kafka-clients
 * read; everything else it must reject with a typed error, one that a broken rule calls for, or for
 * bytes kafka-clients cannot read, CORRUPT_MESSAGE or the error of kafka-clients' exception. Any other
 * exception escapes, and is a finding by itself.
 *
 * <p>Two differences are deliberate and written out where they are judged: in an uncompressed batch
 * Weir rejects a key, value or header-value length below -1, which kafka-clients reads as null; and
 * a compressed batch whose records only the in-place reader of Kafka's broker can read (a consumer's
 * reader finds a record length that does not match) may be accepted, as Kafka accepts it, or refused.
 */
final class BatchDifferential {
    private static final int CRC_AT = DefaultRecordBatch.CRC_OFFSET;
    private static final int ATTRIBUTES_AT = CRC_AT + 4;
    private static final int MAX_TIMESTAMP_AT = 35;
    /** Compression (bits 0-2), transactional (4), control (5), delete horizon (6). */
    private static final int KNOWN_FLAGS_BUT_TIMESTAMP_TYPE = 0x77;

    private BatchDifferential() {
    }

    static void check(byte[] produced, TopicLimits limits, long nowMs) {
        ClientsReading clients;
        try {
            clients = ClientsReading.of(produced);
        } catch (ClientsReading.TooLargeToJudge e) {
            // Nothing to compare with; Weir must still answer with a verdict, not another exception.
            try {
                BatchValidator.validate(MemoryRecords.readableRecords(ByteBuffer.wrap(produced.clone())), limits, nowMs);
            } catch (InvalidBatchException rejected) {
                // A verdict.
            }
            return;
        }
        Set<Errors> broken = brokenRules(clients, limits, nowMs);
        ValidatedBatch accepted = null;
        Errors rejected = null;
        try {
            accepted = BatchValidator.validate(MemoryRecords.readableRecords(ByteBuffer.wrap(produced.clone())), limits, nowMs);
        } catch (InvalidBatchException e) {
            rejected = e.error();
        }
        if (clients.recordsRead() && broken.isEmpty()) {
            if (accepted != null) {
                compareFields(clients, accepted, produced, limits, nowMs);
                return;
            }
            if (clients.readable()) {
                throw new AssertionError("Weir rejects with " + rejected + " what kafka-clients reads and no broker rule forbids");
            }
            // Compressed records a consumer cannot read but Kafka's broker accepts (its in-place reader skips keys,
            // values and headers without checking record lengths): Weir may take them, as Kafka does, or refuse them.
        } else if (accepted != null) {
            throw new AssertionError("Weir accepts " + (clients.readable() ? "a batch that breaks the rules for " + broken
                : "bytes kafka-clients cannot read (" + clients.unreadable + ")"));
        }
        Set<Errors> allowed = EnumSet.noneOf(Errors.class);
        allowed.addAll(broken);
        if (!clients.readable()) {
            // Weir calls bytes it cannot read corrupt; Kafka answers with the error of kafka-clients' exception.
            allowed.add(Errors.CORRUPT_MESSAGE);
            if (clients.unreadableError != null) {
                allowed.add(clients.unreadableError);
            }
            // Weir checks records in order and stops at the first bad one, so a rule that a record read before
            // the unreadable part breaks may be the answer.
            if (clients.first != null && clients.first.magic() == RecordBatch.MAGIC_VALUE_V2) {
                recordRules(clients, limits, nowMs, allowed);
            }
        }
        if (lengthRunsPastTheData(produced)) {
            // Kafka's broker answers a batch whose length field runs past the bytes sent with INVALID_RECORD.
            allowed.add(Errors.INVALID_RECORD);
        }
        if (!allowed.contains(rejected)) {
            throw new AssertionError("Weir rejects with " + rejected + ", expected one of " + allowed
                + (clients.readable() ? "" : " (kafka-clients: " + clients.unreadable + ")"));
        }
    }

    /** Whether the first batch's length field (after its base offset) counts more bytes than were sent. */
    private static boolean lengthRunsPastTheData(byte[] produced) {
        return produced.length >= Records.LOG_OVERHEAD
            && ByteBuffer.wrap(produced).getInt(Records.SIZE_OFFSET) > produced.length - Records.LOG_OVERHEAD;
    }

    /**
     * The broker's rules that the bytes break, each with the error a Kafka broker gives for it. Rules
     * about the records are judged only when kafka-clients could read them (see {@link ClientsReading}).
     */
    static Set<Errors> brokenRules(ClientsReading clients, TopicLimits limits, long nowMs) {
        Set<Errors> broken = EnumSet.noneOf(Errors.class);
        if (clients.sizeInBytes < Records.HEADER_SIZE_UP_TO_MAGIC) {
            broken.add(Errors.CORRUPT_MESSAGE);
        }
        MutableRecordBatch batch = clients.first;
        if (batch == null) {
            if (clients.readable()) {
                broken.add(Errors.INVALID_RECORD); // not even one batch
            }
            return broken;
        }
        if (batch.magic() != RecordBatch.MAGIC_VALUE_V2) {
            // Produce v3 and later carry only magic 2; nothing else about older batches matters.
            broken.add(Errors.UNSUPPORTED_FOR_MESSAGE_FORMAT);
            return broken;
        }
        if (clients.batchCount > 1) {
            broken.add(Errors.INVALID_RECORD); // one batch per partition
        }
        if (clients.leftoverBytes != 0) {
            broken.add(Errors.CORRUPT_MESSAGE); // a consumer skips a partial batch; a produce must not carry one
        }
        if (batch.sizeInBytes() > limits.maxMessageBytes()) {
            broken.add(Errors.MESSAGE_TOO_LARGE);
        }
        if (batch.sizeInBytes() < DefaultRecordBatch.RECORD_BATCH_OVERHEAD) {
            return broken; // too short for a header: only its CRC check can fail, and a consumer cannot read it
        }
        headerRules(batch, broken);
        if (clients.recordsRead()) {
            recordRules(clients, limits, nowMs, broken);
        }
        return broken;
    }

    private static void headerRules(MutableRecordBatch batch, Set<Errors> broken) {
        long lastOffsetDelta = batch.lastOffset() - batch.baseOffset();
        Integer count = batch.countOrNull();
        if (batch.baseOffset() != 0 || count == null || count <= 0 || lastOffsetDelta + 1 != count) {
            broken.add(Errors.INVALID_RECORD); // offsets are the broker's to assign, from 0..count-1
        }
        if (batch.isControlBatch()) {
            broken.add(Errors.INVALID_RECORD); // only a transaction coordinator writes control batches
        }
        if (batch.isTransactional()) {
            broken.add(Errors.TRANSACTIONAL_ID_NOT_FOUND); // Weir has no transactions yet
        }
        if (batch.producerId() >= 0 && batch.baseSequence() < 0
            || batch.producerId() < 0 && batch.producerId() != RecordBatch.NO_PRODUCER_ID) {
            broken.add(Errors.INVALID_RECORD); // an idempotent batch needs a sequence; no other negative producer id
        }
    }

    private static void recordRules(ClientsReading clients, TopicLimits limits, long nowMs, Set<Errors> broken) {
        for (int i = 0; i < clients.records.size(); i++) {
            ClientsReading.RecordFacts record = clients.records.get(i);
            if (record.offsetDelta() != i) {
                broken.add(Errors.INVALID_RECORD); // the iterator takes offsets as written; a broker wants 0..n-1
            }
            if (limits.compacted() && !record.hasKey()) {
                broken.add(Errors.INVALID_RECORD);
            }
            if (limits.timestampType() == TimestampType.CREATE_TIME && !timestampAllowed(record.timestamp(), limits, nowMs)) {
                broken.add(Errors.INVALID_TIMESTAMP);
            }
        }
        if (clients.lengthBelowMinusOne) {
            // Weir is stricter here than kafka-clients (and Kafka's broker), which read such a length as
            // null: in an uncompressed batch it takes only -1 for null and calls anything else corrupt.
            broken.add(Errors.CORRUPT_MESSAGE);
        }
    }

    private static boolean timestampAllowed(long timestamp, TopicLimits limits, long nowMs) {
        if (timestamp == RecordBatch.NO_TIMESTAMP) {
            return true;
        }
        if (timestamp < 0) {
            return false;
        }
        // Timestamps here are 0..Long.MAX_VALUE and now is positive, so these differences cannot overflow.
        return nowMs - timestamp <= limits.timestampBeforeMaxMs() && timestamp - nowMs <= limits.timestampAfterMaxMs();
    }

    /** What Weir accepted is what kafka-clients read, stamped as the topic says. */
    private static void compareFields(ClientsReading clients, ValidatedBatch accepted, byte[] produced, TopicLimits limits,
                                      long nowMs) {
        MutableRecordBatch batch = clients.first;
        boolean logAppendTime = limits.timestampType() == TimestampType.LOG_APPEND_TIME;
        long maxTimestamp = logAppendTime ? nowMs
            : clients.records.stream().mapToLong(ClientsReading.RecordFacts::timestamp).max().orElseThrow();
        expect("offset count", clients.records.size(), accepted.offsetCount());
        expect("producer id", batch.producerId(), accepted.producerId());
        expect("producer epoch", batch.producerEpoch(), accepted.producerEpoch());
        expect("base sequence", batch.baseSequence(), accepted.baseSequence());
        expect("max timestamp", maxTimestamp, accepted.maxTimestamp());
        expect("log-append time", logAppendTime ? nowMs : RecordBatch.NO_TIMESTAMP, accepted.logAppendTimeMs());
        expect("size", produced.length, accepted.sizeInBytes());
        ByteBuffer stored = accepted.bytes().duplicate();
        DefaultRecordBatch storedBatch = (DefaultRecordBatch) MemoryRecords.readableRecords(stored.duplicate())
            .batches().iterator().next();
        if (!storedBatch.isValid()) {
            throw new AssertionError("the accepted batch's CRC is wrong");
        }
        expect("stored timestamp type", limits.timestampType(), storedBatch.timestampType());
        expect("stored max timestamp", maxTimestamp, storedBatch.maxTimestamp());
        expect("stored compression", batch.compressionType(), storedBatch.compressionType());
        // Besides the CRC, the timestamp-type bit and the max timestamp, the stored bytes are the produced ones.
        for (int i = 0; i < produced.length; i++) {
            boolean restamped = i >= CRC_AT && i < ATTRIBUTES_AT + 2 || i >= MAX_TIMESTAMP_AT && i < MAX_TIMESTAMP_AT + 8;
            if (!restamped && stored.get(stored.position() + i) != produced[i]) {
                throw new AssertionError("the accepted batch differs from the produced one at byte " + i);
            }
        }
        // Restamping rewrites the attributes from the flags kafka-clients knows (unused bits are dropped, as Kafka does).
        expect("attribute flags", ByteBuffer.wrap(produced).getShort(ATTRIBUTES_AT) & KNOWN_FLAGS_BUT_TIMESTAMP_TYPE,
            stored.getShort(stored.position() + ATTRIBUTES_AT) & KNOWN_FLAGS_BUT_TIMESTAMP_TYPE);
    }

    private static void expect(String field, Object expected, Object actual) {
        if (!expected.equals(actual)) {
            throw new AssertionError(field + ": Weir has " + actual + ", kafka-clients " + expected);
        }
    }
}
