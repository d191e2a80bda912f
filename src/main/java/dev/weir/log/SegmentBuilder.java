package dev.weir.log;

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
        if (writer != null && position() + batch.remaining() > segmentBytes) {
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
        if (rowSize > 0 && rowSize + batch.remaining() > rowBytes) {
            finishRow();
        }
        if (rowSize == 0) {
            rowPosition = position();
            rowBase = baseOffset;
            rowMaxTimestamp = Long.MIN_VALUE;
        }
        rowLast = lastOffset;
        rowMaxTimestamp = Math.max(rowMaxTimestamp, maxTimestamp);
        rowSize += batch.remaining();
        segmentLast = lastOffset;
        if (batch.remaining() > buffer.remaining()) {
            flush();
        }
        if (batch.remaining() > buffer.capacity()) {
            writer.write(batch.duplicate());
        } else {
            buffer.put(batch.duplicate());
        }
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

    /** Completes the last object and returns every segment written, in offset order. */
    List<NewSegment> finish() {
        if (writer != null) {
            finishSegment();
        }
        return List.copyOf(finished);
    }

    /** Deletes everything written (the index never referred to it). */
    void abandon() {
        if (writer != null) {
            writer.close();
            writer = null;
        }
        for (String written : this.written) {
            log.store().delete(written);
        }
    }
}
