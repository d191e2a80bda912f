package dev.weir.log.cleaner;

/**
 * Holds background rewriting to a byte rate by sleeping the thread that runs ahead of it, measured
 * over windows of one second so that an idle spell does not buy a burst. Used by one thread at a
 * time (the cleaner); the rate is that of the whole cleaner.
 */
final class IoThrottle {
    private static final long WINDOW_NANOS = 1_000_000_000L;

    private final double bytesPerSecond;
    private long windowStartNanos = System.nanoTime();
    private long windowBytes;

    IoThrottle(double bytesPerSecond) {
        if (!(bytesPerSecond > 0)) {
            throw new IllegalArgumentException("rate must be positive: " + bytesPerSecond);
        }
        this.bytesPerSecond = bytesPerSecond;
    }

    void acquire(long bytes) {
        if (Double.isInfinite(bytesPerSecond) || bytesPerSecond >= Double.MAX_VALUE) {
            return;
        }
        long now = System.nanoTime();
        if (now - windowStartNanos > WINDOW_NANOS) {
            windowStartNanos = now;
            windowBytes = 0;
        }
        windowBytes += bytes;
        long dueNanos = (long) (windowBytes / bytesPerSecond * 1e9);
        long aheadNanos = dueNanos - (now - windowStartNanos);
        if (aheadNanos > 0) {
            try {
                Thread.sleep(aheadNanos / 1_000_000, (int) (aheadNanos % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
