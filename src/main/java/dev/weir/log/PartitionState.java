package dev.weir.log;

import dev.weir.metadata.BatchLocation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A partition's offsets and the in-memory tail of its batch index. The tail holds every committed
 * batch from {@code tailStartOffset} up to the high watermark, contiguously, so a read at or after
 * that offset never needs the database. Written only by the committing thread (and DeleteRecords
 * under the log's lock); read by any thread.
 */
final class PartitionState {
    private final ConcurrentSkipListMap<Long, BatchLocation> tail = new ConcurrentSkipListMap<>();
    private volatile long logStartOffset;
    private volatile long highWatermark;
    private volatile long tailStartOffset;

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
    void committed(BatchLocation batch, int maxTailBatches) {
        if (batch.baseOffset() != highWatermark) {
            throw new IllegalStateException("batch at " + batch.baseOffset() + " does not follow the high watermark "
                + highWatermark);
        }
        tail.put(batch.baseOffset(), batch);
        highWatermark = batch.lastOffset() + 1;
        while (tail.size() > maxTailBatches) {
            Map.Entry<Long, BatchLocation> oldest = tail.pollFirstEntry();
            tailStartOffset = oldest.getValue().lastOffset() + 1;
        }
    }

    void logStartMoved(long newLogStartOffset) {
        logStartOffset = newLogStartOffset;
        while (!tail.isEmpty() && tail.firstEntry().getValue().lastOffset() < newLogStartOffset) {
            tail.pollFirstEntry();
        }
        if (tailStartOffset < newLogStartOffset) {
            tailStartOffset = tail.isEmpty() ? highWatermark : tail.firstKey();
        }
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
