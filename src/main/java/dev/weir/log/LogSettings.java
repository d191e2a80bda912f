package dev.weir.log;

/**
 * The log's own limits: WAL object size and age, how many objects may be written at once, the size
 * and roll time of WAL files, the number of recent batch locations kept in memory for all
 * partitions together, and the bytes and lifetime of the pages of older batch locations kept for
 * catch-up reads (a lifetime of 0 keeps none).
 */
public record LogSettings(int walObjectMaxBytes, int walObjectMaxAgeMs, int walMaxInFlightObjects, long walFileBytes,
                          long walFileRollMs, int tailIndexMaxBatches, long indexCacheMaxBytes, long indexPageTtlMs) {
    /** The longest an index page is kept: pages of another broker's merges are not heard of sooner. */
    public static final long MAX_INDEX_PAGE_TTL_MS = 10_000;

    /**
     * How long an index page may be kept when objects nothing refers to are deleted after
     * {@code objectDeleteDelayMs}: well within it, so the objects an old page points at are still there.
     */
    public static long indexPageTtlMs(long objectDeleteDelayMs) {
        return Math.min(MAX_INDEX_PAGE_TTL_MS, objectDeleteDelayMs / 2);
    }
}
