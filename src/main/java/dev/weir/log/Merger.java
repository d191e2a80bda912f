package dev.weir.log;

import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.MetadataStore;
import dev.weir.metadata.NewSegment;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.SegmentRecord;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.ToLongFunction;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.utils.BufferSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Merging: rewrites the batches of committed WAL objects (many partitions each) into per-partition
 * segment objects with final offsets written in, then merges runs of small segments of a partition
 * into larger ones (size-tiered: four neighbours of one size class, up to the topic's
 * {@code segment.bytes}), so a partition ends with few objects and few index rows however small its
 * batches were. Each rewrite switches the index in one transaction; the replaced objects are deleted
 * by garbage collection once nothing refers to them and the grace period has passed. Runs on one
 * thread (the cleaner), with one copy buffer and the I/O rate held by a throttle.
 */
public final class Merger {
    private static final Logger LOG = LoggerFactory.getLogger(Merger.class);
    /** Index rows merged into segments per rewrite, bounding the memory one rewrite holds. */
    private static final int ROWS_PER_REWRITE = 20_000;
    /** Segment size classes are powers of four from this size. */
    private static final long SMALLEST_CLASS_BYTES = 4096;
    private static final int RUN_LENGTH = 4;

    private final Log log;
    private final MetadataStore metadata;
    private final Clock clock;
    private final int rowBytes;
    private final IoThrottle throttle;
    private final ByteBuffer buffer;
    private ByteBuffer filterBuffer = ByteBuffer.allocate(0);

    /**
     * @param rowBytes a merged segment gets one index row per this many bytes of batches
     * @param ioBytesPerSecond the most bytes per second rewriting reads
     * @param bufferBytes the copy buffer for writing segments
     */
    public Merger(Log log, Clock clock, int rowBytes, double ioBytesPerSecond, int bufferBytes) {
        this.log = log;
        this.metadata = log.metadata();
        this.clock = clock;
        this.rowBytes = rowBytes;
        this.throttle = new IoThrottle(ioBytesPerSecond);
        this.buffer = ByteBuffer.allocateDirect(bufferBytes);
    }

    /**
     * One pass over the WAL objects committed at least {@code minAgeMs} ago (WAL objects are committed
     * in key order, so they are a prefix); {@code segmentBytes} gives each partition's limit. Returns
     * the segments written.
     */
    public int mergeOnce(ToLongFunction<PartitionKey> segmentBytes, long minAgeMs) {
        Optional<String> newest = metadata.newestObject(WalWriter.PREFIX, clock.millis() - minAgeMs);
        if (newest.isEmpty()) {
            return 0;
        }
        int written = 0;
        for (PartitionKey partition : metadata.partitionsWithBatchesIn(WalWriter.PREFIX, newest.get())) {
            try {
                long limit = segmentBytes.applyAsLong(partition);
                written += mergeWal(partition, newest.get(), limit);
                written += mergeSegments(partition, limit);
            } catch (UnknownPartitionException deletedMeanwhile) {
                LOG.debug("{} was deleted while it was merged", partition);
            }
        }
        return written;
    }

    /** Moves the partition's batches in WAL objects up to {@code newestKey} into segments. */
    private int mergeWal(PartitionKey partition, String newestKey, long segmentBytes) {
        List<SegmentRecord> segments = metadata.segments(partition);
        long from = segments.isEmpty() ? 0 : segments.get(segments.size() - 1).lastOffset() + 1;
        int written = 0;
        while (true) {
            List<BatchLocation> rows = metadata.batchesInObjects(partition, WalWriter.PREFIX, newestKey, from,
                ROWS_PER_REWRITE);
            if (rows.isEmpty()) {
                return written;
            }
            List<NewSegment> added = rewrite(partition, rows, segmentBytes, List.of(), null);
            if (added == null) {
                return written;
            }
            written += added.size();
            from = rows.get(rows.size() - 1).lastOffset() + 1;
        }
    }

    /** Merges runs of small neighbouring segments of one size class. */
    private int mergeSegments(PartitionKey partition, long segmentBytes) {
        int written = 0;
        for (List<SegmentRecord> run = mergeableRun(metadata.segments(partition), segmentBytes); !run.isEmpty();
             run = mergeableRun(metadata.segments(partition), segmentBytes)) {
            List<BatchLocation> rows = rowsOf(partition, run);
            if (rows.isEmpty()) {
                return written;
            }
            List<NewSegment> added = rewrite(partition, rows, segmentBytes,
                run.stream().map(SegmentRecord::objectKey).toList(), null);
            if (added == null) {
                return written;
            }
            written += added.size();
        }
        return written;
    }

    /**
     * The first {@value #RUN_LENGTH} neighbours of one size class whose sizes add up to at most the
     * limit. Segments of an eighth of the limit or more are left as they are: they hold few index rows
     * already, and merging them again would rewrite most of the log once more.
     */
    static List<SegmentRecord> mergeableRun(List<SegmentRecord> segments, long segmentBytes) {
        for (int start = 0; start + RUN_LENGTH <= segments.size(); start++) {
            List<SegmentRecord> run = segments.subList(start, start + RUN_LENGTH);
            int sizeClass = sizeClass(run.get(0).size());
            long total = 0;
            boolean sameClass = true;
            for (SegmentRecord segment : run) {
                sameClass &= sizeClass(segment.size()) == sizeClass && segment.size() < segmentBytes / 8;
                total += segment.size();
            }
            if (sameClass && total <= segmentBytes) {
                return List.copyOf(run);
            }
        }
        return List.of();
    }

    private static int sizeClass(long bytes) {
        int sizeClass = 0;
        for (long limit = SMALLEST_CLASS_BYTES * 4; bytes >= limit && limit > 0; limit *= 4) {
            sizeClass++;
        }
        return sizeClass;
    }

    List<BatchLocation> rowsOf(PartitionKey partition, List<SegmentRecord> run) {
        long from = run.get(0).baseOffset();
        long to = run.get(run.size() - 1).lastOffset();
        List<BatchLocation> rows = new ArrayList<>();
        while (from <= to) {
            List<BatchLocation> page = metadata.batchesFrom(partition, from, 1000);
            for (BatchLocation row : page) {
                if (row.baseOffset() > to) {
                    return rows;
                }
                if (row.baseOffset() >= from) {
                    rows.add(row);
                }
            }
            if (page.size() < 1000) {
                return rows;
            }
            from = page.get(page.size() - 1).lastOffset() + 1;
        }
        return rows;
    }

    /**
     * Copies the rows' batches, with offsets final, into new segments (through
     * {@code filter} when compacting, which may drop records and whole batches) and switches the index.
     * Returns the segments, or null if the range changed meanwhile (what was written is then deleted).
     */
    List<NewSegment> rewrite(PartitionKey partition, List<BatchLocation> rows, long segmentBytes,
                             List<String> replacedSegments, MemoryRecords.RecordFilter filter) {
        SegmentBuilder builder = new SegmentBuilder(log, partition, segmentBytes, rowBytes, buffer, clock);
        try {
            for (BatchLocation row : rows) {
                throttle.acquire(row.size());
                if (filter == null) {
                    // Merging moves bytes as they are: segment rows object to object, WAL batches with
                    // their offsets written in. Reads check every CRC, so the copy does not.
                    if (BatchReader.isSegment(row.objectKey())) {
                        builder.appendCopy(row);
                    } else {
                        builder.appendWal(partition, row);
                    }
                    continue;
                }
                ByteBuffer bytes = log.reader().readRow(partition, row);
                int position = bytes.position();
                for (MutableRecordBatch batch : MemoryRecords.readableRecords(bytes.duplicate()).batches()) {
                    int size = batch.sizeInBytes();
                    ByteBuffer batchBytes = bytes.duplicate().position(position).limit(position + size);
                    position += size;
                    ByteBuffer kept = filtered(batchBytes, filter);
                    for (MutableRecordBatch keptBatch : MemoryRecords.readableRecords(kept.duplicate()).batches()) {
                        builder.append(kept, keptBatch.baseOffset(), keptBatch.lastOffset(), keptBatch.maxTimestamp());
                    }
                }
            }
            List<NewSegment> segments = builder.finish();
            BatchLocation first = rows.get(0);
            BatchLocation last = rows.get(rows.size() - 1);
            if (!log.switchIndex(partition, first.baseOffset(), last.lastOffset(), rows.size(), segments,
                replacedSegments)) {
                LOG.info("The index of {} changed while offsets {}..{} were rewritten; the rewrite is dropped",
                    partition, first.baseOffset(), last.lastOffset());
                builder.abandon();
                return null;
            }
            return segments;
        } catch (RuntimeException e) {
            builder.abandon();
            throw e;
        }
    }

    /** One batch through the filter: nothing, or one batch holding the records it keeps. */
    private ByteBuffer filtered(ByteBuffer batch, MemoryRecords.RecordFilter filter) {
        if (filterBuffer.capacity() < batch.remaining()) {
            filterBuffer = ByteBuffer.allocate(batch.remaining());
        }
        MemoryRecords.FilterResult result = MemoryRecords.readableRecords(batch)
            .filterTo(filter, filterBuffer.clear(), BufferSupplier.NO_CACHING);
        // A recompressed batch that grew comes back in a larger buffer; it is kept for the next batch.
        filterBuffer = result.outputBuffer();
        return filterBuffer.duplicate().flip();
    }
}
