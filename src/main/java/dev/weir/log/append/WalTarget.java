package dev.weir.log.append;

import java.nio.ByteBuffer;

/**
 * Where the WAL writer puts sealed WAL objects: packed one after another into WAL files on local disk
 * ({@link PackedWalTarget}), or each an object of its own in a store without WAL files, such as S3
 * ({@link ObjectWalTarget}). {@link #place} and {@link #close} run on the sealing thread alone;
 * {@link #write} and {@link #discard} on any thread, for disjoint places.
 */
public interface WalTarget extends AutoCloseable {
    /**
     * Where an object of {@code size} bytes goes. Throws {@link dev.weir.storage.StorageException} when
     * no room can be made for it.
     */
    WalPlacement place(int size);

    /** Writes the object's parts (the padding {@link WalPlacement#footprint} asks for included) durably. */
    void write(WalPlacement placement, ByteBuffer[] parts);

    /**
     * Makes sure start-up will never commit the placed object, whose commit failed (or may not have been
     * tried) and whose producers are told so; throws if that could not be made sure.
     */
    void discard(WalPlacement placement, ByteBuffer[] parts);

    /** The next object goes somewhere new (after a failure, so nothing waits on what failed). */
    void startOver();

    /** The object's commit is over, done or failed: the file its place retired can be released. */
    void commitOver(WalPlacement placement);

    /**
     * Whether an object is sealed as soon as nothing else is being written: where a write is cheap (a
     * local sync), a lone producer then waits for nothing but its own write; where each object costs a
     * request (S3), objects wait for their size or age.
     */
    boolean sealsWhenIdle();

    /**
     * Whether start-up commits again objects written after the last commit, so a commit may reach the
     * disk after it returns; otherwise every commit must be durable when it returns, since an object
     * without one is garbage.
     */
    boolean replaysUncommitted();

    @Override
    void close();
}
