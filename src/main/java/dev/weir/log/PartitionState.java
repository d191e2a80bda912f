package dev.weir.log;

import dev.weir.metadata.BatchLocation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A partition's offsets and the in-memory tail of its batch index. The tail holds every committed
 * batch from {@code tailStartOffset} up to the high watermark, contiguously, so a read at or after
 * that offset never needs the database. Batches that merging has moved into segments leave the tail
 * (their WAL objects will be deleted). Changes are serialised on this object (the committing thread,
 * DeleteRecords and retention, merging); reads take no lock.
 */
final class PartitionState {
    private final ConcurrentSkipListMap<Long, BatchLocation> tail = new ConcurrentSkipListMap<>();
    private volatile long logStartOffset;
    private volatile long highWatermark;
    private volatile long tailStartOffset;
    /** The last offset merged into segments; a commit that arrives after its merge stays out of the tail. */
    private long mergedThrough = -1;
    /** The tail's entry count (the skip list counts by walking, far too slow for every commit). */
    private int tailSize;

    PartitionState(long logStartOffset, long highWatermark) {
        this.logStartOffset = logStartOffset;
        this.highWatermark = highWatermark;
        this.tailStartOffset = highWatermark;
    }

    long logStartOffset() {
        return logStartOffset;
    }

    long highWatermark() {
        return highWatermark;
    }

    /**
     * Adds a committed batch (batches arrive in offset order with no gap) and trims the tail to
     * {@code maxTailBatches}, which the log derives from its budget for all partitions.
     */
    synchronized void committed(BatchLocation batch, int maxTailBatches) {
        if (batch.baseOffset() != highWatermark) {
            throw new IllegalStateException("batch at " + batch.baseOffset() + " does not follow the high watermark "
                + highWatermark);
        }
        if (batch.lastOffset() > mergedThrough) {
            tail.put(batch.baseOffset(), batch);
            tailSize++;
        }
        highWatermark = batch.lastOffset() + 1;
        while (tailSize > maxTailBatches) {
            Map.Entry<Long, BatchLocation> oldest = tail.pollFirstEntry();
            tailSize--;
            tailStartOffset = oldest.getValue().lastOffset() + 1;
        }
    }

    synchronized void logStartMoved(long newLogStartOffset) {
        logStartOffset = newLogStartOffset;
        while (!tail.isEmpty() && tail.firstEntry().getValue().lastOffset() < newLogStartOffset) {
            tail.pollFirstEntry();
            tailSize--;
        }
        if (tailStartOffset < newLogStartOffset) {
            tailStartOffset = tail.isEmpty() ? highWatermark : tail.firstKey();
        }
    }

    /** Batches up to {@code lastOffset} now live in segments: the tail drops them and starts after them. */
    synchronized void merged(long lastOffset) {
        mergedThrough = Math.max(mergedThrough, lastOffset);
        while (!tail.isEmpty() && tail.firstEntry().getValue().lastOffset() <= lastOffset) {
            tail.pollFirstEntry();
            tailSize--;
        }
        tailStartOffset = Math.max(tailStartOffset, lastOffset + 1);
    }

    /** The batches from {@code offset} in the tail, or null when the offset lies before the tail. */
    List<BatchLocation> tailFrom(long offset, int maxBatches) {
        if (offset < tailStartOffset) {
            return null;
        }
        List<BatchLocation> batches = new ArrayList<>();
        Map.Entry<Long, BatchLocation> containing = tail.floorEntry(offset);
        Long from = containing != null && containing.getValue().lastOffset() >= offset ? containing.getKey() : offset;
        for (BatchLocation batch : tail.tailMap(from, true).values()) {
            if (batches.size() >= maxBatches) {
                break;
            }
            batches.add(batch);
        }
        return batches;
    }
}
