package dev.weir.storage;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Where the log's bytes live: objects named by key, immutable once written, except WAL files, which
 * are written in place piece by piece ({@link WalFile}). Writes are durable once they complete.
 * Implementations are thread-safe and throw {@link StorageException} on failure.
 */
public interface ObjectStore extends AutoCloseable {
    /** Starts writing a new object in pieces; the key must not exist. */
    ObjectWriter create(String key);

    /**
     * Creates a WAL file of {@code capacity} bytes under a new key, durably (its name survives a crash
     * once this returns). A store may allocate the whole capacity here, so that each later write syncs
     * only its data.
     */
    default WalFile createWalFile(String key, long capacity) {
        return createWalFile(key, capacity, capacity);
    }

    /**
     * As {@link #createWalFile(String, long)}, but a store that is running out of room may make the file
     * smaller, down to {@code minCapacity}, and leave the rest of its room to other writers: the file's
     * {@link WalFile#capacity()} says what it got. Fails, having written nothing, when not even
     * {@code minCapacity} fits.
     */
    WalFile createWalFile(String key, long capacity, long minCapacity);

    /** Reads {@code length} bytes at {@code position}; fails if the object is shorter. */
    default ByteBuffer read(String key, long position, int length) {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        readInto(key, position, buffer);
        return buffer.flip();
    }

    /** Fills {@code target}'s remaining bytes from {@code position}; fails if the object is shorter. */
    void readInto(String key, long position, ByteBuffer target);

    /**
     * A read channel of its own on the object, for sending ranges of it without copying them through
     * the process; the caller closes it. Empty when the store keeps no files (objects are then read
     * with {@link #readInto}).
     */
    default java.util.Optional<java.nio.channels.FileChannel> openChannel(String key) {
        return java.util.Optional.empty();
    }

    /** Keys of every object whose key starts with the prefix. */
    List<String> list(String prefix);

    /** Deletes the object; deleting a missing object is not an error. */
    void delete(String key);

    @Override
    void close();
}
