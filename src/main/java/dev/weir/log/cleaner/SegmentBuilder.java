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
 * closed every {@code rowBytes}. Writes go through one copy buffer; ranges copied object to object
 * are put off until the next write, so that ranges that follow on in one object are copied with one
 * read. Batches are read through the {@link MergeSource}. Nothing refers to the objects until the
 * caller switches the index; {@link #abandon} deletes them if it never does. Not thread-safe.
 */
final class SegmentBuilder {
    private final Log log;
    private final MergeSource source;
    private final PartitionKey partition;
    private final long segmentBytes;
    private final int rowBytes;
    private final Clock clock;
    private final ByteBuffer buffer;
    private final List<NewSegment> finished = new ArrayList<>();
    private final List<String> written = new ArrayList<>();

    private ObjectWriter writer;
    /**
     * A range of another object to copy after the buffer's bytes, not copied yet: {@code copyLength} bytes
     * of {@code copyKey} from {@code copyPosition}. While there is one the buffer is empty.
     */
    private String copyKey;
    private long copyPosition;
    private long copyLength;
    private String key;
    private long segmentBase;
    private long segmentLast;
    private final List<BatchLocation> rows = new ArrayList<>();
    private long rowPosition;
    private long rowBase;
    private long rowLast;
    private long rowMaxTimestamp;
    private int rowSize;

    SegmentBuilder(Log log, MergeSource source, PartitionKey partition, long segmentBytes, int rowBytes,
                   ByteBuffer buffer, Clock clock) {
        this.log = log;
        this.source = source;
        this.partition = partition;
        this.segmentBytes = segmentBytes;
        this.rowBytes = rowBytes;
        this.buffer = buffer.clear();
        this.clock = clock;
    }

    /** Appends one batch (its bytes, final offsets written in). */
    void append(ByteBuffer batch, long baseOffset, long lastOffset, long maxTimestamp) {
        place(batch.remaining(), baseOffset, lastOffset, maxTimestamp);
        if (batch.remaining() > buffer.capacity()) {
            flush();
            writer.write(batch.duplicate());
        } else {
            room(batch.remaining()).put(batch.duplicate());
        }
    }

    /**
     * Appends whole batches with final offsets (a row of another segment, or a run kept in place) copied
     * object to object, not through this process where the store can; rows that follow on in one object
     * are copied together.
     */
    void appendCopy(BatchLocation row) {
        place(row.size(), row.baseOffset(), row.lastOffset(), row.maxTimestamp());
        copy(row.objectKey(), row.position(), row.size());
    }

    /**
     * Appends a WAL batch, read into the copy buffer, with its real base offset and the leader epoch
     * written in (both lie outside the CRC, so it stays valid). Its header is checked against the
     * index; the CRC was checked when it was produced and is checked again whenever it is read. Of a
     * large batch that the source does not hold, only the header passes through the buffer, and the rest
     * is copied object to object.
     */
    void appendWal(PartitionKey partition, BatchLocation row) {
        place(row.size(), row.baseOffset(), row.lastOffset(), row.maxTimestamp());
        if (row.size() <= buffer.capacity()
            && (row.size() < BatchReader.SEND_FROM_FILE_MIN_BYTES || source.holds(row.objectKey()))) {
            room(row.size());
            ByteBuffer batch = buffer.slice(buffer.position(), row.size());
            source.readInto(row.objectKey(), row.position(), batch);
            BatchReader.patchWalHeader(partition, row, batch.flip());
            buffer.position(buffer.position() + row.size());
            return;
        }
        room(BatchReader.HEADER_PREFIX_BYTES);
        ByteBuffer header = buffer.slice(buffer.position(), BatchReader.HEADER_PREFIX_BYTES);
        source.readInto(row.objectKey(), row.position(), header);
        BatchReader.patchWalHeader(partition, row, header.flip());
        buffer.position(buffer.position() + BatchReader.HEADER_PREFIX_BYTES);
        copy(row.objectKey(), row.position() + BatchReader.HEADER_PREFIX_BYTES,
            row.size() - BatchReader.HEADER_PREFIX_BYTES);
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
        return writer.size() + buffer.position() + copyLength;
    }

    /** The copy buffer with at least {@code bytes} free, after the range to copy, if any, is copied. */
    private ByteBuffer room(int bytes) {
        if (copyLength > 0 || bytes > buffer.remaining()) {
            flush();
        }
        return buffer;
    }

    /** Copies a range of another object after what was appended so far, with the range before it if they follow on. */
    private void copy(String key, long position, long length) {
        if (copyLength > 0 && key.equals(copyKey) && position == copyPosition + copyLength) {
            copyLength += length;
            return;
        }
        flush();
        copyKey = key;
        copyPosition = position;
        copyLength = length;
    }

    /** Writes the buffer's bytes, then copies the range put off, if any (the buffer is then empty). */
    private void flush() {
        if (buffer.position() > 0) {
            buffer.flip();
            writer.write(buffer);
            buffer.clear();
        }
        if (copyLength > 0) {
            source.copyTo(writer, copyKey, copyPosition, copyLength);
            copyLength = 0;
        }
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
        copyLength = 0;
        if (writer != null) {
            writer.close();
            writer = null;
        }
        log.store().deleteAll(written);
    }
}
