package dev.weir.log.cleaner;

import dev.weir.log.format.Layout;
import dev.weir.log.Log;
import dev.weir.log.UnknownPartitionException;
import dev.weir.log.append.WalWriter;
import dev.weir.log.read.BatchReader;
import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.MetadataStore;
import dev.weir.metadata.NewSegment;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.SegmentRecord;
import dev.weir.metadata.WalFileUse;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
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
 *
 * <p>Batches are read through a {@link MergeSource}: on a store without local files (S3) a pass goes
 * through its WAL objects a window at a time (each window's objects read whole, once, and held for all
 * the partitions), every partition of the window merged before the next; a partition then gets segments
 * per window, which merging small segments joins later.
 *
 * <p>A partition whose data may stay where the WAL file holds it (see {@link #mergeOnce}) is not
 * copied: its runs of batches that lie side by side in a WAL file and whose stored headers carry their
 * final offsets already (the WAL writer writes them in when it predicts them right, which it does but
 * for duplicates, failed writes and restarts) get one index row per run instead of one per batch, and
 * only the rest is copied. Runs of a partition that average under {@value #IN_PLACE_MIN_RUN_BYTES} bytes
 * are copied all the same, so that a partition of small batches still ends with few index rows.
 */
public final class Merger {
    private static final Logger LOG = LoggerFactory.getLogger(Merger.class);
    /** Index rows merged into segments per rewrite, bounding the memory one rewrite holds. */
    private static final int ROWS_PER_REWRITE = 20_000;
    /** Index rows read per query when walking a partition's rows. */
    private static final int ROWS_PER_PAGE = 1000;
    /** Segment size classes are powers of four from this size. */
    private static final long SMALLEST_CLASS_BYTES = 4096;
    private static final int RUN_LENGTH = 4;
    /** A partition's runs of WAL batches are kept in place only when they average at least this many bytes. */
    static final int IN_PLACE_MIN_RUN_BYTES = 16 * 1024;
    /** WAL files with rows kept in place that one thinning pass looks at, in turns through all of them. */
    private static final int FILES_CHECKED_PER_PASS = 64;

    private final Log log;
    private final MetadataStore metadata;
    private final Clock clock;
    private final int rowBytes;
    private final IoThrottle throttle;
    private final MergeSource source;
    private final ByteBuffer buffer;
    private ByteBuffer filterBuffer = ByteBuffer.allocate(0);
    private final ByteBuffer header = ByteBuffer.allocate(BatchReader.HEADER_PREFIX_BYTES);
    /**
     * Per partition, the offset before which no WAL batch is left to merge: where the next pass starts
     * looking (rows kept in place lie before it). Lost on restart, when the last segment is the start;
     * forgotten when the partition's topic is deleted.
     */
    private final Map<PartitionKey, Long> mergedThrough = new HashMap<>();
    /**
     * The newest WAL file of the last pass that merged everything it found: earlier files hold no batch
     * left to merge. The WAL prefix (every file) after a restart.
     */
    private String filesMergedThrough = Layout.WAL_PREFIX;
    /** The last WAL file the previous thinning pass looked at, or the WAL prefix to start from the oldest. */
    private String thinnedThrough = Layout.WAL_PREFIX;

    /**
     * @param rowBytes a merged segment gets one index row per this many bytes of batches
     * @param ioBytesPerSecond the most bytes per second rewriting reads
     * @param bufferBytes the copy buffer for writing segments
     * @param windowBytes on a store without local files, the most bytes of WAL objects held in memory at once,
     *     each read whole with one request; 0 reads them batch by batch
     */
    public Merger(Log log, Clock clock, int rowBytes, double ioBytesPerSecond, int bufferBytes, int windowBytes) {
        this.log = log;
        this.metadata = log.metadata();
        this.clock = clock;
        this.rowBytes = rowBytes;
        this.throttle = new IoThrottle(ioBytesPerSecond);
        this.source = new MergeSource(log.store(), metadata::objectSize, windowBytes);
        this.buffer = ByteBuffer.allocateDirect(bufferBytes);
    }

    /**
     * One pass over the WAL objects committed at least {@code minAgeMs} ago (WAL objects are committed
     * in key order, so they are a prefix); {@code segmentBytes} gives each partition's limit, and
     * {@code keepInPlace} the partitions whose batches may stay in their WAL files: those whose data
     * ages out together with the rest of the WAL files' (the broker's retention by time, none by size),
     * so that they do not keep a WAL file on disk for long after its other batches went. Their batches
     * stay only in WAL files that such partitions fill at least half of; the rest of a file is copied,
     * and a file mostly copied goes whole. Returns the segments written.
     */
    public int mergeOnce(ToLongFunction<PartitionKey> segmentBytes, Predicate<PartitionKey> keepInPlace, long minAgeMs) {
        Optional<String> newest = metadata.newestObject(Layout.WAL_PREFIX, clock.millis() - minAgeMs);
        if (newest.isEmpty()) {
            return 0;
        }
        Map<String, Map<PartitionKey, Long>> unmerged = metadata.unmergedBytes(filesMergedThrough, newest.get());
        Map<PartitionKey, Boolean> inPlace = new LinkedHashMap<>();
        Set<String> keepable = new HashSet<>();
        unmerged.forEach((file, bytesByPartition) -> {
            long total = 0;
            long kept = 0;
            for (Map.Entry<PartitionKey, Long> bytes : bytesByPartition.entrySet()) {
                total += bytes.getValue();
                if (inPlace.computeIfAbsent(bytes.getKey(), keepInPlace::test)) {
                    kept += bytes.getValue();
                }
            }
            if (kept * 2 >= total) {
                keepable.add(file);
            }
        });
        int written = 0;
        boolean complete = true;
        for (MergeSource.Window window : source.windows(List.copyOf(unmerged.keySet()))) {
            source.startWindow(window);
            try {
                for (PartitionKey partition : partitionsIn(window, unmerged)) {
                    try {
                        int merged = mergeWal(partition, window.lastKey(), segmentBytes.applyAsLong(partition),
                            inPlace.get(partition) ? keepable : Set.of());
                        complete &= merged >= 0;
                        written += Math.max(merged, 0);
                    } catch (UnknownPartitionException deletedMeanwhile) {
                        LOG.debug("{} was deleted while it was merged", partition);
                    }
                }
            } finally {
                source.endWindow();
            }
        }
        for (PartitionKey partition : inPlace.keySet()) {
            try {
                written += mergeSegments(partition, segmentBytes.applyAsLong(partition));
            } catch (UnknownPartitionException deletedMeanwhile) {
                LOG.debug("{} was deleted while its segments were merged", partition);
            }
        }
        if (complete) {
            // The newest file may still take objects: the next pass looks at it again.
            filesMergedThrough = newest.get();
        }
        mergedThrough.keySet().removeIf(partition -> !log.hasPartition(partition));
        return written;
    }

    /** The partitions with batches to merge in the window's objects, in the order they first come. */
    private static Set<PartitionKey> partitionsIn(MergeSource.Window window,
                                                  Map<String, Map<PartitionKey, Long>> unmerged) {
        Set<PartitionKey> partitions = new LinkedHashSet<>();
        for (String objectKey : window.objectKeys()) {
            partitions.addAll(unmerged.get(objectKey).keySet());
        }
        return partitions;
    }

    /**
     * Copies the runs kept in place out of WAL files that the index refers to less than a third of, so that
     * garbage collection can delete them: a topic or records were deleted, or a topic's retention
     * changed, while their neighbours in the files stay. A file within a tenth of {@code retentionMs} (the
     * retention of batches kept in place) of its batches' ageing out is left to go with them. Looks
     * at up to {@value #FILES_CHECKED_PER_PASS} such files per call, taking turns through all of them,
     * among the WAL files the last complete merging pass has been through. Returns the segments written.
     */
    public int thinOutWalFiles(ToLongFunction<PartitionKey> segmentBytes, long retentionMs) {
        // Only files that merging has been through: they hold no batches but those kept in place.
        List<WalFileUse> files = metadata.objectsWithRowsKeptInPlace(thinnedThrough, filesMergedThrough,
            FILES_CHECKED_PER_PASS);
        thinnedThrough = files.size() < FILES_CHECKED_PER_PASS ? Layout.WAL_PREFIX : files.get(files.size() - 1).objectKey();
        long nowMs = clock.millis();
        int written = 0;
        for (WalFileUse file : files) {
            long untilAgedOut = file.committedMs() + retentionMs - nowMs;
            boolean agesOutSoon = retentionMs >= 0 && Math.abs(untilAgedOut) < retentionMs / 10;
            if (file.referencedBytes() * 3 >= file.committedBytes() || agesOutSoon) {
                continue;
            }
            for (Map.Entry<PartitionKey, List<BatchLocation>> kept : metadata.rowsKeptInPlaceIn(file.objectKey())
                .entrySet()) {
                try {
                    long limit = segmentBytes.applyAsLong(kept.getKey());
                    for (List<BatchLocation> block : offsetBlocks(kept.getValue())) {
                        List<NewSegment> added = rewrite(kept.getKey(), block, limit, List.of(), null);
                        written += added == null ? 0 : added.size();
                    }
                } catch (UnknownPartitionException deletedMeanwhile) {
                    LOG.debug("{} was deleted while its batches were copied out of {}", kept.getKey(), file.objectKey());
                }
            }
        }
        return written;
    }

    /**
     * A partition's rows (in offset order) cut where the offsets do not follow on, so that each block
     * holds every index row of its offset range.
     */
    private static List<List<BatchLocation>> offsetBlocks(List<BatchLocation> rows) {
        List<List<BatchLocation>> blocks = new ArrayList<>();
        for (BatchLocation row : rows) {
            List<BatchLocation> last = blocks.isEmpty() ? null : blocks.get(blocks.size() - 1);
            if (last == null || last.get(last.size() - 1).lastOffset() + 1 != row.baseOffset()) {
                last = new ArrayList<>();
                blocks.add(last);
            }
            last.add(row);
        }
        return blocks;
    }

    /**
     * Moves the partition's batches in WAL objects up to {@code newestKey} into segments, or keeps them
     * in place in the files {@code keepable}. Returns the segments written, or -1 if the index changed
     * meanwhile and a rewrite was dropped.
     */
    private int mergeWal(PartitionKey partition, String newestKey, long segmentBytes, Set<String> keepable) {
        long from = mergedThrough.computeIfAbsent(partition, key -> {
            List<SegmentRecord> segments = metadata.segments(key);
            return segments.isEmpty() ? 0 : segments.get(segments.size() - 1).lastOffset() + 1;
        });
        int written = 0;
        while (true) {
            List<BatchLocation> rows = metadata.batchesInObjects(partition, Layout.WAL_PREFIX, newestKey, from,
                ROWS_PER_REWRITE, false);
            if (rows.isEmpty()) {
                return written;
            }
            List<NewSegment> added = rewrite(partition, rows, segmentBytes, List.of(), null, keepable);
            if (added == null) {
                return -1;
            }
            written += added.size();
            from = rows.get(rows.size() - 1).lastOffset() + 1;
            mergedThrough.put(partition, from);
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
        long to = run.get(run.size() - 1).lastOffset();
        return rowsWhile(partition, run.get(0).baseOffset(), row -> row.baseOffset() <= to);
    }

    /**
     * The partition's merged rows, from its log start: segment rows and runs kept in place, up to the
     * first WAL batch not merged yet.
     */
    List<BatchLocation> mergedRows(PartitionKey partition) {
        return rowsWhile(partition, 0, BatchReader::holdsFinalBatches);
    }

    /** The partition's index rows from {@code from} on, in offset order, up to the first that {@code take} refuses. */
    private List<BatchLocation> rowsWhile(PartitionKey partition, long from, Predicate<BatchLocation> take) {
        List<BatchLocation> rows = new ArrayList<>();
        while (true) {
            List<BatchLocation> page = metadata.batchesFrom(partition, from, ROWS_PER_PAGE);
            for (BatchLocation row : page) {
                if (!take.test(row)) {
                    return rows;
                }
                if (row.baseOffset() >= from) {
                    rows.add(row);
                }
            }
            if (page.size() < ROWS_PER_PAGE) {
                return rows;
            }
            from = page.get(page.size() - 1).lastOffset() + 1;
        }
    }

    /**
     * Copies the rows' batches, with offsets final, into new segments (through
     * {@code filter} when compacting, which may drop records and whole batches) and switches the index.
     * Returns the segments, or null if the range changed meanwhile (what was written is then deleted).
     */
    List<NewSegment> rewrite(PartitionKey partition, List<BatchLocation> rows, long segmentBytes,
                             List<String> replacedSegments, MemoryRecords.RecordFilter filter) {
        return rewrite(partition, rows, segmentBytes, replacedSegments, filter, Set.of());
    }

    /** As above; runs of WAL batches whose headers are final are kept where they lie in the files {@code keepable}. */
    private List<NewSegment> rewrite(PartitionKey partition, List<BatchLocation> rows, long segmentBytes,
                                     List<String> replacedSegments, MemoryRecords.RecordFilter filter,
                                     Set<String> keepable) {
        SegmentBuilder builder = new SegmentBuilder(log, source, partition, segmentBytes, rowBytes, buffer, clock);
        List<BatchLocation> kept = new ArrayList<>();
        try {
            List<List<BatchLocation>> runs = keepable.isEmpty() ? List.of() : runsInPlace(rows);
            if (filter != null) {
                copyFiltered(partition, rows, filter, builder);
            } else if (runs.isEmpty()) {
                copy(partition, rows, builder);
            } else {
                for (List<BatchLocation> run : runs) {
                    if (keepable.contains(run.get(0).objectKey()) && finalHeaders(partition, run)) {
                        // The segment being written ends before the run, so that no segment's offset range spans it.
                        builder.endSegment();
                        kept.add(keptRow(run));
                    } else {
                        copy(partition, run, builder);
                    }
                }
            }
            List<NewSegment> segments = builder.finish();
            BatchLocation first = rows.get(0);
            BatchLocation last = rows.get(rows.size() - 1);
            if (!log.switchIndex(partition, first.baseOffset(), last.lastOffset(), rows.size(), segments, kept,
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

    /**
     * Copies rows as they are: segment rows and rows kept in place object to object, WAL batches with
     * their offsets written in. Reads check every CRC, so the copy does not.
     */
    private void copy(PartitionKey partition, List<BatchLocation> rows, SegmentBuilder builder) {
        for (BatchLocation row : rows) {
            throttle.acquire(row.size());
            if (BatchReader.holdsFinalBatches(row)) {
                builder.appendCopy(row);
            } else {
                builder.appendWal(partition, row);
            }
        }
    }

    /** Copies the rows' batches through the filter, which may drop records and whole batches. */
    private void copyFiltered(PartitionKey partition, List<BatchLocation> rows, MemoryRecords.RecordFilter filter,
                              SegmentBuilder builder) {
        for (BatchLocation row : rows) {
            throttle.acquire(row.size());
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
    }

    /**
     * The WAL rows (in offset order) cut into runs that lie side by side in one WAL file, each at most
     * one index row's bytes; none if the runs average under {@value #IN_PLACE_MIN_RUN_BYTES} bytes.
     */
    private List<List<BatchLocation>> runsInPlace(List<BatchLocation> rows) {
        List<List<BatchLocation>> runs = new ArrayList<>();
        List<BatchLocation> run = new ArrayList<>();
        long runBytes = 0;
        long totalBytes = 0;
        for (BatchLocation row : rows) {
            BatchLocation previous = run.isEmpty() ? null : run.get(run.size() - 1);
            if (previous != null && (!row.objectKey().equals(previous.objectKey())
                || row.position() != previous.position() + previous.size() || runBytes + row.size() > rowBytes)) {
                runs.add(run);
                run = new ArrayList<>();
                runBytes = 0;
            }
            run.add(row);
            runBytes += row.size();
            totalBytes += row.size();
        }
        runs.add(run);
        return totalBytes / runs.size() < IN_PLACE_MIN_RUN_BYTES ? List.of() : runs;
    }

    /** Whether every batch of the run carries its final offsets in its stored header (read, not copied). */
    private boolean finalHeaders(PartitionKey partition, List<BatchLocation> run) {
        for (BatchLocation row : run) {
            throttle.acquire(BatchReader.HEADER_PREFIX_BYTES);
            source.readInto(row.objectKey(), row.position(), header.clear());
            if (!BatchReader.checkWalHeader(partition, row, header.flip())) {
                return false;
            }
        }
        return true;
    }

    /** The index row of a run kept in place: its batches, with final offsets, where they lie. */
    private static BatchLocation keptRow(List<BatchLocation> run) {
        BatchLocation first = run.get(0);
        BatchLocation last = run.get(run.size() - 1);
        long maxTimestamp = Long.MIN_VALUE;
        int size = 0;
        for (BatchLocation row : run) {
            maxTimestamp = Math.max(maxTimestamp, row.maxTimestamp());
            size += row.size();
        }
        return new BatchLocation(first.baseOffset(), last.lastOffset(), first.objectKey(), first.position(), size,
            maxTimestamp, true);
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
