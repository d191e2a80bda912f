package dev.weir.net;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * A warning that a peer can cause over and over (refused connections, say), written at most once per
 * interval with the number of times it was left out since, so that a flood of bad connections does
 * not become a flood of log lines. Thread-safe.
 */
public final class ThrottledLog {
    private final Logger log;
    private final long intervalNanos;
    private final AtomicLong nextNanos = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong suppressed = new AtomicLong();

    public ThrottledLog(Logger log, long interval, TimeUnit unit) {
        this.log = log;
        this.intervalNanos = unit.toNanos(interval);
    }

    /** Logs the warning unless one was logged less than an interval ago. */
    public void warn(String format, Object... arguments) {
        long now = System.nanoTime();
        long next = nextNanos.get();
        if ((next != Long.MIN_VALUE && now - next < 0) || !nextNanos.compareAndSet(next, now + intervalNanos)) {
            suppressed.incrementAndGet();
            return;
        }
        long left = suppressed.getAndSet(0);
        if (left > 0) {
            log.warn(format + " ({} more like it were not logged)", append(arguments, left));
        } else {
            log.warn(format, arguments);
        }
    }

    private static Object[] append(Object[] arguments, Object last) {
        Object[] all = java.util.Arrays.copyOf(arguments, arguments.length + 1);
        all[arguments.length] = last;
        return all;
    }
}
