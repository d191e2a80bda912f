package dev.weir.net;

import java.util.ArrayDeque;
import java.util.Queue;

/**
 * The broker-wide budget for the bytes of requests in progress (Kafka's
 * {@code queued.max.request.bytes}). A connection reserves a frame's bytes as they arrive and
 * releases them when the request is answered; a connection that finds the budget spent stops reading
 * and is resumed, in arrival order, when bytes are released. A reservation by the only holder of
 * memory always succeeds, so a single request larger than the budget is still admitted when nothing
 * else is queued. Thread-safe.
 */
public final class RequestMemory {
    private final long capacityBytes;
    private final Queue<Runnable> waiting = new ArrayDeque<>();
    private long usedBytes;

    public RequestMemory(long capacityBytes) {
        this.capacityBytes = capacityBytes;
    }

    /**
     * Reserves the bytes if they fit, or if the caller, which holds {@code heldByCaller} bytes already,
     * is the only holder; otherwise registers {@code onAvailable} and returns false.
     */
    public synchronized boolean tryReserve(long bytes, long heldByCaller, Runnable onAvailable) {
        if (usedBytes + bytes <= capacityBytes || usedBytes == heldByCaller) {
            usedBytes += bytes;
            return true;
        }
        waiting.add(onAvailable);
        return false;
    }

    public void release(long bytes) {
        Queue<Runnable> wake;
        synchronized (this) {
            usedBytes -= bytes;
            if (usedBytes < 0) {
                throw new IllegalStateException("released more request memory than reserved");
            }
            if (waiting.isEmpty()) {
                return;
            }
            wake = new ArrayDeque<>(waiting);
            waiting.clear();
        }
        wake.forEach(Runnable::run);
    }

    public synchronized long usedBytes() {
        return usedBytes;
    }
}
