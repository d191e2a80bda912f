package dev.weir.log.cleaner;

import dev.weir.log.Log;
import dev.weir.log.read.BatchReader;
import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.NewSegment;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.SegmentRecord;
import dev.weir.storage.ObjectWriter;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes batches with final offsets, in offset order, into new segment objects of one partition:
 * a new object is started when the next batch would pass {@code segmentBytes}, and an index row is
 * closed every {@code rowBytes}. Writes go through one copy buffer. Nothing refers to the objects
 * until the caller switches the index; {@link #abandon} deletes them if it never does. Not
 * thread-safe.
 */
final class SegmentBuilder {
    private final Log log;
    private final PartitionKey partition;
    private final long segmentBytes;
    private final int rowBytes;
    private final Clock clock;
    private final ByteBuffer buffer;
    private final List<NewSegment> finished = new ArrayList<>();
    private final List<String> written = new ArrayList<>();

    private ObjectWriter writer;
    private String key;
    private long segmentBase;
    private long segmentLast;
    private final List<BatchLocation> rows = new ArrayList<>();
    private long rowPosition;
    private long rowBase;
    private long rowLast;
    private long rowMaxTimestamp;
    private int rowSize;

    SegmentBuilder(Log log, PartitionKey partition, long segmentBytes, int rowBytes, ByteBuffer buffer, Clock clock) {
        this.log = log;
        this.partition = partition;
        this.segmentBytes = segmentBytes;
        this.rowBytes = rowBytes;
        this.buffer = buffer.clear();
        this.clock = clock;
    }

    /** Appends one batch (its bytes, final offsets written in). */
    void append(ByteBuffer batch, long baseOffset, long lastOffset, long maxTimestamp) {
        place(batch.remaining(), baseOffset, lastOffset, maxTimestamp);
        if (batch.remaining() > buffer.remaining()) {
            flush();
        }
        if (batch.remaining() > buffer.capacity()) {
            writer.write(batch.duplicate());
        } else {
            buffer.put(batch.duplicate());
        }
    }

    /**
     * Appends whole batches with final offsets (a row of another segment) copied object to object,
     * not through this process.
     */
    void appendCopy(BatchLocation row) {
        place(row.size(), row.baseOffset(), row.lastOffset(), row.maxTimestamp());
        flush();
        writer.writeFrom(row.objectKey(), row.position(), row.size());
    }

    /**
     * Appends a WAL batch, read straight into the copy buffer, with its real base offset and the leader
     * epoch written in (both lie outside the CRC, so it stays valid). Its header is checked against the
     * index; the CRC was checked when it was produced and is checked again whenever it is read.
     */
    void appendWal(PartitionKey partition, BatchLocation row) {
        if (row.size() >= BatchReader.SEND_FROM_FILE_MIN_BYTES || row.size() > buffer.capacity()) {
            // A large batch: its header through the buffer, the rest object to object.
            place(row.size(), row.baseOffset(), row.lastOffset(), row.maxTimestamp());
            ByteBuffer header = ByteBuffer.allocate(BatchReader.HEADER_PREFIX_BYTES);
            log.store().readInto(row.objectKey(), row.position(), header);
            BatchReader.patchWalHeader(partition, row, header.flip());
            if (header.remaining() > buffer.remaining()) {
                flush();
            }
            buffer.put(header);
            flush();
            writer.writeFrom(row.objectKey(), row.position() + BatchReader.HEADER_PREFIX_BYTES,
                row.size() - BatchReader.HEADER_PREFIX_BYTES);
            return;
        }
        place(row.size(), row.baseOffset(), row.lastOffset(), row.maxTimestamp());
        if (row.size() > buffer.remaining()) {
            flush();
        }
        ByteBuffer batch = buffer.slice(buffer.position(), row.size());
        log.store().readInto(row.objectKey(), row.position(), batch);
        BatchReader.patchWalHeader(partition, row, batch.flip());
        buffer.position(buffer.position() + row.size());
    }

    /** Starts a new segment or row where needed and accounts for {@code size} bytes about to be written. */
    private void place(int size, long baseOffset, long lastOffset, long maxTimestamp) {
        if (writer != null && position() + size > segmentBytes) {
            finishSegment();
        }
        if (writer == null) {
            key = log.newSegmentKey();
            written.add(key);
            writer = log.store().create(key);
            segmentBase = baseOffset;
        } else if (baseOffset <= segmentLast) {
            throw new IllegalStateException("batch at " + baseOffset + " does not follow offset " + segmentLast);
        }
        if (rowSize > 0 && rowSize + size > rowBytes) {
            finishRow();
        }
        if (rowSize == 0) {
            rowPosition = position();
            rowBase = baseOffset;
            rowMaxTimestamp = Long.MIN_VALUE;
        }
        rowLast = lastOffset;
        rowMaxTimestamp = Math.max(rowMaxTimestamp, maxTimestamp);
        rowSize += size;
        segmentLast = lastOffset;
    }

    private long position() {
        return writer.size() + buffer.position();
    }

    private void flush() {
        buffer.flip();
        writer.write(buffer);
        buffer.clear();
    }

    private void finishRow() {
        rows.add(new BatchLocation(rowBase, rowLast, key, rowPosition, rowSize, rowMaxTimestamp));
        rowSize = 0;
    }

    private void finishSegment() {
        finishRow();
        flush();
        writer.complete();
        finished.add(new NewSegment(new SegmentRecord(key, partition, segmentBase, segmentLast, writer.size(),
            clock.millis()), rows));
        writer.close();
        writer = null;
        rows.clear();
    }

    /** Completes the segment being written, if any: the next batch starts a new one. */
    void endSegment() {
        if (writer != null) {
            finishSegment();
        }
    }

    /** Completes the last object and returns every segment written, in offset order. */
    List<NewSegment> finish() {
        endSegment();
        return List.copyOf(finished);
    }

    /** Deletes everything written (the index never referred to it). */
    void abandon() {
        if (writer != null) {
            writer.close();
            writer = null;
        }
        log.store().deleteAll(written);
    }
}
