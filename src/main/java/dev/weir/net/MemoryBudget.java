package dev.weir.net;

/**
 * A number of bytes that holders reserve before they allocate and release when they are done, with
 * an optional parent that every reservation must fit as well: a connection's share of the broker-wide
 * budget for response memory, for instance. A reservation that does not fit is refused, never
 * waited for. Thread-safe; a child's lock is taken before its parent's.
 */
public final class MemoryBudget {
    private final long capacityBytes;
    private final MemoryBudget parent;
    private long usedBytes;

    public MemoryBudget(long capacityBytes) {
        this(capacityBytes, null);
    }

    public MemoryBudget(long capacityBytes, MemoryBudget parent) {
        this.capacityBytes = capacityBytes;
        this.parent = parent;
    }

    /** A budget of {@code capacityBytes} whose reservations also count against this one. */
    public MemoryBudget child(long capacityBytes) {
        return new MemoryBudget(capacityBytes, this);
    }

    /** Reserves the bytes if they fit here and in every parent; false (and nothing reserved) if not. */
    public synchronized boolean tryReserve(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative reservation " + bytes);
        }
        if (usedBytes + bytes > capacityBytes || (parent != null && !parent.tryReserve(bytes))) {
            return false;
        }
        usedBytes += bytes;
        return true;
    }

    public void release(long bytes) {
        synchronized (this) {
            if (bytes < 0 || bytes > usedBytes) {
                throw new IllegalStateException("releasing " + bytes + " bytes of " + usedBytes + " reserved");
            }
            usedBytes -= bytes;
        }
        if (parent != null) {
            parent.release(bytes);
        }
    }

    public synchronized long usedBytes() {
        return usedBytes;
    }

    public long capacityBytes() {
        return capacityBytes;
    }
}
