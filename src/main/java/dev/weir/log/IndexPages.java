package dev.weir.log;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.weir.metadata.BatchIndex;
import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.PartitionKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Pages of the batch index read from the metadata database for reads below the in-memory tail, kept
 * for a short while, so a consumer catching up asks the database once per page rather than once per
 * fetch (against PostgreSQL, a network round trip each). A page is {@value #PAGE_ROWS} consecutive
 * rows of one partition as the database held them; a partition keeps its {@value #PAGES_PER_PARTITION}
 * last used pages (consumers at different places), all partitions together at most a number of bytes.
 *
 * <p>A page may be out of date: merging, compaction and retention replace or drop rows. This broker's
 * own changes drop the partition's pages ({@link #forget}); those of another broker are not heard, so a
 * page lives at most {@code ttl}, which the log keeps below the time an object nothing refers to is
 * kept ({@code log.segment.delete.delay.ms}): the objects an old page points at are then still there,
 * and hold the same batches. Thread-safe.
 */
final class IndexPages {
    static final int PAGE_ROWS = 256;
    static final int PAGES_PER_PARTITION = 4;
    /** What a row costs in the cache: the record, its object key and the array slot, roughly. */
    private static final int ROW_BYTES = 160;

    private record Page(BatchLocation[] rows, long loadedNanos) {
        boolean holds(long offset) {
            return rows[0].baseOffset() <= offset && offset <= rows[rows.length - 1].lastOffset();
        }

        /** The index of the first row whose last offset reaches {@code offset}: rows are in offset order. */
        int firstReaching(long offset) {
            int low = 0;
            int high = rows.length;
            while (low < high) {
                int middle = (low + high) >>> 1;
                if (rows[middle].lastOffset() < offset) {
                    low = middle + 1;
                } else {
                    high = middle;
                }
            }
            return low;
        }
    }

    /** Where pages come from: {@link BatchIndex#batchesFrom} of the metadata database. */
    @FunctionalInterface
    interface Source {
        List<BatchLocation> batchesFrom(PartitionKey partition, long offset, int maxBatches);
    }

    private final Source index;
    private final long ttlNanos;
    private final LongSupplier nanoTime;
    /** A partition's pages, the last used first; null when caching is off. */
    private final Cache<PartitionKey, List<Page>> pages;

    /** A cache of at most {@code maxBytes}; with {@code maxBytes} or {@code ttl} zero, every look-up asks the database. */
    IndexPages(Source index, long maxBytes, Duration ttl, LongSupplier nanoTime) {
        this.index = index;
        this.ttlNanos = ttl.toNanos();
        this.nanoTime = nanoTime;
        this.pages = maxBytes <= 0 || ttlNanos <= 0 ? null : Caffeine.newBuilder()
            .maximumWeight(maxBytes)
            .weigher((PartitionKey key, List<Page> kept) -> 64 + kept.stream().mapToInt(p -> p.rows.length).sum() * ROW_BYTES)
            .expireAfterAccess(ttl)
            .build();
    }

    /**
     * Up to {@code maxRows} rows of the partition's index from the one holding {@code offset} (or the first
     * after it), in offset order; fewer only where the index ends.
     */
    List<BatchLocation> from(PartitionKey partition, long offset, int maxRows) {
        if (pages == null) {
            return index.batchesFrom(partition, offset, maxRows);
        }
        List<BatchLocation> found = new ArrayList<>(Math.min(maxRows, PAGE_ROWS));
        long next = offset;
        while (found.size() < maxRows) {
            Page page = cached(partition, next);
            if (page == null) {
                page = load(partition, next);
                if (page == null) {
                    break; // the index ends here
                }
            }
            int added = 0;
            for (int i = page.firstReaching(next); i < page.rows.length && found.size() < maxRows; i++, added++) {
                found.add(page.rows[i]);
            }
            if (added == 0) {
                break;
            }
            // A page shorter than the others was the end of the index when it was read, not necessarily now:
            // the rows after it are looked up, and where there are none the index ends.
            next = found.get(found.size() - 1).lastOffset() + 1;
        }
        return found;
    }

    /** A fresh page holding {@code offset}, if one is kept; it becomes the partition's last used. */
    private Page cached(PartitionKey partition, long offset) {
        List<Page> kept = pages.getIfPresent(partition);
        if (kept == null) {
            return null;
        }
        long now = nanoTime.getAsLong();
        for (Page page : kept) {
            if (now - page.loadedNanos < ttlNanos && page.holds(offset)) {
                if (page != kept.get(0)) {
                    keep(partition, page);
                }
                return page;
            }
        }
        return null;
    }

    private Page load(PartitionKey partition, long offset) {
        // The page's age counts from before the query: the rows may have changed as it ran.
        long loadedNanos = nanoTime.getAsLong();
        List<BatchLocation> rows = index.batchesFrom(partition, offset, PAGE_ROWS);
        if (rows.isEmpty()) {
            return null;
        }
        Page page = new Page(rows.toArray(BatchLocation[]::new), loadedNanos);
        keep(partition, page);
        return page;
    }

    /** Makes {@code page} the partition's last used page, dropping stale ones and the least used beyond the limit. */
    private void keep(PartitionKey partition, Page page) {
        long now = nanoTime.getAsLong();
        pages.asMap().compute(partition, (key, kept) -> {
            List<Page> updated = new ArrayList<>(PAGES_PER_PARTITION);
            updated.add(page);
            if (kept != null) {
                for (Page old : kept) {
                    if (updated.size() < PAGES_PER_PARTITION && old != page && now - old.loadedNanos < ttlNanos) {
                        updated.add(old);
                    }
                }
            }
            return List.copyOf(updated);
        });
    }

    /** Drops the partition's pages: this broker changed its index (merging, compaction, retention, deletion). */
    void forget(PartitionKey partition) {
        if (pages != null) {
            pages.invalidate(partition);
        }
    }

    /** Drops the pages of every partition of a topic. */
    void forgetTopic(org.apache.kafka.common.Uuid topicId) {
        if (pages != null) {
            pages.asMap().keySet().removeIf(key -> key.topicId().equals(topicId));
        }
    }
}
