package dev.weir.storage;

import java.nio.ByteBuffer;

/**
 * An object written in place, piece by piece, each piece durable once its write returns: one file of
 * the write-ahead log, holding many WAL objects one after another. Readers may read the written
 * ranges while later ones are being written; bytes never written read as zeros. Writes to disjoint
 * ranges may run concurrently.
 *
 * <p>Writers start every write at a multiple of {@link #ALIGNMENT} and pad it to end at one, so no write
 * covers part of a page: on local disk the file is made without filling the page cache, and a write
 * over part of a page the cache does not hold would first read the rest of it from the disk.
 */
public interface WalFile extends AutoCloseable {
    /** The page size writes are aligned to. */
    int ALIGNMENT = 4096;

    /** {@code position} rounded up to a multiple of {@link #ALIGNMENT}. */
    static long aligned(long position) {
        return (position + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    String key();

    /** The most bytes the file holds. */
    long capacity();

    /** Writes the parts, in order, from {@code position}, and returns once they are durable. */
    void write(long position, ByteBuffer[] parts);

    /** Releases the file for writing; what was written stays. */
    @Override
    void close();
}
