package dev.weir.log;

import dev.weir.metadata.BatchLocation;
import java.util.ArrayList;
import java.util.List;

/**
 * A partition's offsets and the in-memory tail of its batch index. The tail holds every committed
 * batch from {@code tailStartOffset} up to the high watermark, contiguously, so a read at or after
 * that offset never needs the database. Batches that merging has moved into segments leave the tail
 * (their WAL objects will be deleted). The tail is a ring of batches in offset order, searched by
 * bisection: a fetch looks it up once per partition, and a sorted array is both cheaper to search and
 * far cheaper for the JIT to compile than a concurrent skip list. Changes and tail lookups are
 * serialised on this object (the committing thread, fetches, DeleteRecords and retention, merging);
 * the offsets are read without the lock. With other brokers writing to the same partition, the offsets
 * and the tail are a cache of what the database holds: their commits, noticed or met in the gaps of this
 * broker's own, move the high watermark and make the tail start over.
 */
final class PartitionState {
    private static final int MIN_CAPACITY = 16;

    /** The tail's batches: {@code tailSize} of them from {@code tailHead}, wrapping; a power of two long. */
    private BatchLocation[] tail = new BatchLocation[MIN_CAPACITY];
    private int tailHead;
    private int tailSize;
    private volatile long logStartOffset;
    private volatile long highWatermark;
    /** Written under the lock; read without it by {@link #tailHolds}. */
    private volatile long tailStartOffset;
    /** The last offset merged into segments; a commit that arrives after its merge stays out of the tail. */
    private long mergedThrough = -1;

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
        if (batch.lastOffset() < highWatermark) {
            return; // known already: another broker's commit after it was noticed first
        }
        if (batch.baseOffset() != highWatermark) {
            // Another broker committed the offsets between: the tail starts over with this batch.
            startOver(batch.baseOffset());
        }
        if (batch.lastOffset() > mergedThrough) {
            append(batch);
        }
        highWatermark = batch.lastOffset() + 1;
        while (tailSize > maxTailBatches) {
            tailStartOffset = removeOldest().lastOffset() + 1;
        }
    }

    /**
     * Offsets up to {@code nextOffset} were committed without this broker hearing where their batches are
     * (another broker's commits, or one of its own whose answer was lost): the high watermark moves
     * there, and the tail, which holds no locations of those batches, starts over after them (reads
     * before that go to the index database). False if the offset was known already.
     */
    synchronized boolean committedElsewhere(long nextOffset) {
        if (nextOffset <= highWatermark) {
            return false;
        }
        startOver(nextOffset);
        highWatermark = nextOffset;
        return true;
    }

    /** Empties the tail, to go on from {@code offset}. */
    private void startOver(long offset) {
        while (tailSize > 0) {
            removeOldest();
        }
        tailStartOffset = offset;
    }

    synchronized void logStartMoved(long newLogStartOffset) {
        logStartOffset = newLogStartOffset;
        while (tailSize > 0 && at(0).lastOffset() < newLogStartOffset) {
            removeOldest();
        }
        if (tailStartOffset < newLogStartOffset) {
            tailStartOffset = tailSize == 0 ? highWatermark : at(0).baseOffset();
        }
    }

    /** Batches up to {@code lastOffset} now live in segments: the tail drops them and starts after them. */
    synchronized void merged(long lastOffset) {
        mergedThrough = Math.max(mergedThrough, lastOffset);
        while (tailSize > 0 && at(0).lastOffset() <= lastOffset) {
            removeOldest();
        }
        tailStartOffset = Math.max(tailStartOffset, lastOffset + 1);
    }

    /** Whether a read from {@code offset} starts in the tail (a hint: the tail may move on meanwhile). */
    boolean tailHolds(long offset) {
        return offset >= tailStartOffset;
    }

    /** Up to {@code maxBatches} batches of the tail from the one holding {@code offset}; null before the tail. */
    synchronized List<BatchLocation> tailFrom(long offset, int maxBatches) {
        if (offset < tailStartOffset) {
            return null;
        }
        // The first batch whose last offset reaches the offset: batches are contiguous and in order.
        int low = 0;
        int high = tailSize;
        while (low < high) {
            int middle = (low + high) >>> 1;
            if (at(middle).lastOffset() < offset) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        int count = Math.min(maxBatches, tailSize - low);
        List<BatchLocation> batches = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            batches.add(at(low + i));
        }
        return batches;
    }

    private BatchLocation at(int index) {
        return tail[(tailHead + index) & (tail.length - 1)];
    }

    private void append(BatchLocation batch) {
        if (tailSize == tail.length) {
            resize(tail.length * 2);
        }
        tail[(tailHead + tailSize) & (tail.length - 1)] = batch;
        tailSize++;
    }

    private BatchLocation removeOldest() {
        BatchLocation oldest = tail[tailHead];
        tail[tailHead] = null;
        tailHead = (tailHead + 1) & (tail.length - 1);
        tailSize--;
        // A partition whose share of the tail budget shrank (more partitions) gives its room back.
        if (tail.length > MIN_CAPACITY && tailSize <= tail.length / 4) {
            resize(tail.length / 2);
        }
        return oldest;
    }

    private void resize(int capacity) {
        BatchLocation[] resized = new BatchLocation[capacity];
        for (int i = 0; i < tailSize; i++) {
            resized[i] = at(i);
        }
        tail = resized;
        tailHead = 0;
    }
}
