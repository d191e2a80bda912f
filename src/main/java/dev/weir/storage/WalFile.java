package dev.weir.storage;

import java.nio.ByteBuffer;

/**
 * An object written in place, piece by piece, each piece durable once its write returns: one file of
 * the write-ahead log, holding many WAL objects one after another. Readers may read the written
 * ranges while later ones are being written; bytes never written read as zeros. Writes to disjoint
 * ranges may run concurrently.
 */
public interface WalFile extends AutoCloseable {
    String key();

    /** The most bytes the file holds. */
    long capacity();

    /** Writes the parts, in order, from {@code position}, and returns once they are durable. */
    void write(long position, ByteBuffer[] parts);

    /** Releases the file for writing; what was written stays. */
    @Override
    void close();
}
