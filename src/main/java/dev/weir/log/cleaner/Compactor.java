package dev.weir.log.cleaner;

import dev.weir.log.Log;
import dev.weir.log.policy.CompactionSettings;
import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.MergeCatalog;
import dev.weir.metadata.PartitionKey;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.BufferSupplier;
import org.apache.kafka.common.utils.CloseableIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compaction ({@code cleanup.policy=compact}), as Kafka's log cleaner does it. The merged segments
 * of a partition (and runs kept in place in WAL files while the topic only deleted) are cleanable up
 * to the first one holding a record newer than {@code min.compaction.lag.ms} (WAL batches not yet
 * merged are never cleaned); the part from the clean offset on is
 * dirty. When the dirty share reaches {@code min.cleanable.dirty.ratio} (or a dirty record is older
 * than {@code max.compaction.lag.ms}), a map of the latest offset of
 * each key in the dirty part is built (bounded by {@code log.cleaner.dedupe.buffer.size}), and every
 * cleanable segment is rewritten keeping a record only if no later record has its key. Tombstones get
 * a delete horizon {@code delete.retention.ms} after the cleaning that first keeps them and are dropped
 * by the first cleaning after it. Offsets are never reassigned; batches keep their last offset. Runs
 * on the cleaner thread.
 */
public final class Compactor {
    private static final Logger LOG = LoggerFactory.getLogger(Compactor.class);
    /** What one key of the offset map costs on the heap, roughly (digest, boxed offset, hash entry). */
    static final int MAP_ENTRY_BYTES = 100;

    private final Log log;
    private final MergeCatalog metadata;
    private final Merger merger;
    private final Clock clock;
    private final long maxKeys;
    private final MessageDigest md5;

    private record KeyDigest(long high, long low) {
    }

    public Compactor(Log log, Merger merger, Clock clock, long dedupeBufferBytes) {
        this.log = log;
        this.metadata = log.metadata();
        this.merger = merger;
        this.clock = clock;
        this.maxKeys = Math.max(1, dedupeBufferBytes / MAP_ENTRY_BYTES);
        try {
            this.md5 = MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is part of every Java platform", e);
        }
    }

    /** Cleans the partition if enough of it is dirty; returns whether it did. */
    public boolean maybeCompact(PartitionKey partition, CompactionSettings settings) {
        List<BatchLocation> merged = merger.mergedRows(partition);
        if (merged.isEmpty()) {
            return false;
        }
        long nowMs = clock.millis();
        List<BatchLocation> cleanable = cleanableRows(merged, nowMs - settings.minCompactionLagMs());
        if (cleanable.isEmpty()) {
            return false;
        }
        long cleanOffset = metadata.cleanOffset(partition);
        long cleanBytes = 0;
        long dirtyBytes = 0;
        boolean overdue = false;
        for (BatchLocation row : cleanable) {
            if (row.lastOffset() < cleanOffset) {
                cleanBytes += row.size();
            } else {
                dirtyBytes += row.size();
                // A dirty row whose newest record is older than max.compaction.lag.ms forces a cleaning.
                overdue |= row.maxTimestamp() < nowMs - settings.maxCompactionLagMs();
            }
        }
        double dirtyRatio = (double) dirtyBytes / (cleanBytes + dirtyBytes);
        if (dirtyBytes == 0 || (dirtyRatio < settings.minCleanableDirtyRatio() && !overdue)) {
            return false;
        }
        Map<KeyDigest, Long> latest = new HashMap<>();
        long mappedThrough = mapLatestOffsets(partition, cleanable, cleanOffset, latest);
        List<String> replaced = cleanable.stream().map(BatchLocation::objectKey).distinct().toList();
        var segmentsWritten = merger.rewrite(partition, cleanable, settings.segmentBytes(), replaced,
            new LatestPerKey(nowMs, settings.deleteRetentionMs(), latest));
        if (segmentsWritten == null) {
            return false;
        }
        metadata.setCleanOffset(partition, mappedThrough + 1);
        LOG.info("Compacted {} through offset {} ({} keys, dirty ratio {}): {} bytes became {} bytes in {} segments",
            partition, mappedThrough, latest.size(), String.format("%.2f", dirtyRatio), cleanBytes + dirtyBytes,
            segmentsWritten.stream().mapToLong(segment -> segment.segment().size()).sum(), segmentsWritten.size());
        return true;
    }

    /** The rows of whole segments, from the first, up to the first segment with a record newer than the cutoff. */
    private static List<BatchLocation> cleanableRows(List<BatchLocation> rows, long newestCleanableTimestamp) {
        List<BatchLocation> cleanable = new ArrayList<>();
        int segmentStart = 0;
        for (int i = 0; i < rows.size(); i++) {
            BatchLocation row = rows.get(i);
            if (i > 0 && !row.objectKey().equals(rows.get(i - 1).objectKey())) {
                cleanable.addAll(rows.subList(segmentStart, i));
                segmentStart = i;
            }
            if (row.maxTimestamp() > newestCleanableTimestamp) {
                return cleanable;
            }
        }
        cleanable.addAll(rows.subList(segmentStart, rows.size()));
        return cleanable;
    }

    /**
     * Maps each key of the dirty rows to its latest offset, until the map holds its limit of keys;
     * returns the last offset whose record was mapped.
     */
    private long mapLatestOffsets(PartitionKey partition, List<BatchLocation> rows, long cleanOffset,
                                  Map<KeyDigest, Long> latest) {
        long mappedThrough = cleanOffset - 1;
        for (BatchLocation row : rows) {
            if (row.lastOffset() < cleanOffset) {
                continue;
            }
            for (MutableRecordBatch batch : MemoryRecords.readableRecords(log.reader().readRow(partition, row)).batches()) {
                try (CloseableIterator<Record> records = batch.streamingIterator(BufferSupplier.NO_CACHING)) {
                    while (records.hasNext()) {
                        Record record = records.next();
                        if (record.offset() < cleanOffset || !record.hasKey()) {
                            continue;
                        }
                        KeyDigest key = digest(record.key());
                        if (!latest.containsKey(key) && latest.size() >= maxKeys) {
                            LOG.info("The offset map of {} is full at {} keys (log.cleaner.dedupe.buffer.size); this"
                                + " cleaning stops at offset {}", partition, latest.size(), record.offset());
                            return mappedThrough;
                        }
                        latest.put(key, record.offset());
                        mappedThrough = record.offset();
                    }
                }
                mappedThrough = Math.max(mappedThrough, batch.lastOffset());
            }
        }
        return mappedThrough;
    }

    private KeyDigest digest(ByteBuffer key) {
        md5.update(key.duplicate());
        ByteBuffer hash = ByteBuffer.wrap(md5.digest());
        return new KeyDigest(hash.getLong(), hash.getLong());
    }

    /** Keeps the latest record of each mapped key, unmapped records, and tombstones until their horizon. */
    private final class LatestPerKey extends MemoryRecords.RecordFilter {
        private final Map<KeyDigest, Long> latest;

        LatestPerKey(long nowMs, long deleteRetentionMs, Map<KeyDigest, Long> latest) {
            super(nowMs, deleteRetentionMs);
            this.latest = latest;
        }

        @Override
        protected BatchRetentionResult checkBatchRetention(RecordBatch batch) {
            return new BatchRetentionResult(BatchRetention.DELETE_EMPTY, false);
        }

        @Override
        protected boolean shouldRetainRecord(RecordBatch batch, Record record) {
            if (!record.hasKey()) {
                // A compacted topic accepts no record without a key; these predate the policy, as Kafka drops them.
                return false;
            }
            Long latestOffset = latest.get(digest(record.key()));
            if (latestOffset != null && record.offset() < latestOffset) {
                return false;
            }
            return record.hasValue() || batch.deleteHorizonMs().isEmpty() || currentTime < batch.deleteHorizonMs().getAsLong();
        }
    }
}
