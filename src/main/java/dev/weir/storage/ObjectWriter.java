package dev.weir.storage;

import java.nio.ByteBuffer;

/**
 * A new object written in pieces, for objects too large to hold in memory at once (merged and
 * compacted segments). Until {@link #complete} returns the object may be partial and nothing may
 * refer to it; afterwards it is durable. Closing a writer that was not completed removes
 * what was written. Not thread-safe: one thread writes one object.
 */
public interface ObjectWriter extends AutoCloseable {
    /** Appends the buffer's remaining bytes. */
    void write(ByteBuffer data);

    /**
     * Appends {@code length} bytes of another object of the same store from {@code position}, without
     * passing them through this process where the store can (the local store copies file to file in
     * the kernel).
     */
    void writeFrom(String sourceKey, long position, long length);

    /** Bytes written so far. */
    long size();

    /** Makes the object durable under its key. */
    void complete();

    /** Releases the writer; an object that was not completed is deleted. */
    @Override
    void close();
}
