package dev.weir.log.read;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reusable direct buffers for fetch responses, by power-of-two size class. A direct buffer lets the
 * file read land without a bounce copy and the socket write go without another; reusing them avoids
 * allocating direct memory that only the garbage collector would free. At most {@code maxCachedBytes}
 * are kept idle; requests above {@code maxBufferBytes} get a heap buffer. A buffer must be released
 * only once nothing (no socket write) uses it any more. Thread-safe.
 */
public final class DirectBufferPool {
    private static final int MIN_CLASS = 16;
    private static final int MAX_CLASS = 26;

    private final long maxCachedBytes;
    private final java.util.List<ArrayDeque<ByteBuffer>> idle = new java.util.ArrayList<>();
    private final AtomicLong cachedBytes = new AtomicLong();

    public DirectBufferPool(long maxCachedBytes) {
        this.maxCachedBytes = maxCachedBytes;
        for (int i = 0; i <= MAX_CLASS; i++) {
            idle.add(new ArrayDeque<>());
        }
    }

    private static int sizeClass(int bytes) {
        int exponent = 32 - Integer.numberOfLeadingZeros(Math.max(1, bytes) - 1);
        return Math.max(MIN_CLASS, exponent);
    }

    /** The memory a buffer of {@code bytes} from {@link #acquire} takes: its size class, or the bytes themselves. */
    public static long allocationBytes(int bytes) {
        int sizeClass = sizeClass(bytes);
        return sizeClass > MAX_CLASS ? bytes : 1L << sizeClass;
    }

    /** A buffer with exactly {@code bytes} remaining (position 0, limit {@code bytes}). */
    public ByteBuffer acquire(int bytes) {
        int sizeClass = sizeClass(bytes);
        if (sizeClass > MAX_CLASS) {
            return ByteBuffer.allocate(bytes);
        }
        ByteBuffer buffer;
        synchronized (idle.get(sizeClass)) {
            buffer = idle.get(sizeClass).pollFirst();
        }
        if (buffer == null) {
            buffer = ByteBuffer.allocateDirect(1 << sizeClass);
        } else {
            cachedBytes.addAndGet(-buffer.capacity());
        }
        return buffer.clear().limit(bytes);
    }

    /** Takes back a buffer from {@link #acquire}; heap buffers and buffers beyond the cache are dropped. */
    public void release(ByteBuffer buffer) {
        if (!buffer.isDirect() || cachedBytes.get() + buffer.capacity() > maxCachedBytes) {
            return;
        }
        int sizeClass = sizeClass(buffer.capacity());
        if (sizeClass > MAX_CLASS || (1 << sizeClass) != buffer.capacity()) {
            return;
        }
        cachedBytes.addAndGet(buffer.capacity());
        synchronized (idle.get(sizeClass)) {
            idle.get(sizeClass).addFirst(buffer);
        }
    }
}
