package dev.weir.net;

import java.util.ArrayDeque;
import java.util.Queue;

/**
 * The broker-wide budget for the bytes of requests in progress (Kafka's
 * {@code queued.max.request.bytes}). A connection reserves a frame's size before buffering it and
 * releases it when the request is answered; a connection that finds the budget spent stops reading
 * and is resumed, in arrival order, when bytes are released. Thread-safe.
 */
public final class RequestMemory {
    private final long capacityBytes;
    private final Queue<Runnable> waiting = new ArrayDeque<>();
    private long usedBytes;

    public RequestMemory(long capacityBytes) {
        this.capacityBytes = capacityBytes;
    }

    /** Reserves the bytes if they fit; otherwise registers {@code onAvailable} and returns false. */
    public synchronized boolean tryReserve(long bytes, Runnable onAvailable) {
        if (usedBytes + bytes <= capacityBytes || usedBytes == 0) {
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
