package dev.weir.storage;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Where the log's bytes live: immutable objects named by key. {@link #put} returns only once the
 * object is durable. Implementations are thread-safe and throw {@link StorageException} on failure.
 */
public interface ObjectStore extends AutoCloseable {
    /** Writes a new object durably. The key must not exist, or must have been reserved. */
    default void put(String key, ByteBuffer data) {
        put(key, new ByteBuffer[] {data});
    }

    /** Writes a new object made of these parts, in order, durably (a gathering write where possible). */
    void put(String key, ByteBuffer[] parts);

    /** Starts writing a new object in pieces; the key must not exist. */
    ObjectWriter create(String key);

    /**
     * A hint that these keys will be written soon, in any order. A store may prepare them so that
     * {@link #put} is cheaper (the local store creates the files and makes their names durable with
     * one directory sync). A reserved key that is never written is an empty object.
     */
    default void reserve(List<String> keys) {
    }

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
