package dev.weir.storage;

import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Where the log's bytes live: immutable objects named by key (written once, then read in ranges, listed
 * and deleted), the shape of S3 and of a local directory alike. Writes are durable once they complete.
 * What only some stores can do is a capability the store may offer: {@link FileAccess} (objects as local
 * files, for sendfile) and {@link WalFileStore} (WAL files made ahead and written in place, on local
 * disk). Implementations are thread-safe and throw {@link StorageException} on failure.
 */
public interface ObjectStore extends AutoCloseable {
    /** Starts writing a new object in pieces; the key must not exist. */
    /** The bytes {@code targets} have room for: what a read into them asks for. */
    static long remaining(ByteBuffer... targets) {
        long length = 0;
        for (ByteBuffer target : targets) {
            length += target.remaining();
        }
        return length;
    }

    ObjectWriter create(String key);

    /**
     * Writes a new object of the parts' remaining bytes, in order, at once (on S3 one PUT); the key must
     * not exist, unless it holds these very bytes (an S3 store takes that as its own earlier attempt, which
     * landed though its answer was lost, and succeeds). Durable when it returns.
     */
    default void put(String key, ByteBuffer... parts) {
        try (ObjectWriter writer = create(key)) {
            for (ByteBuffer part : parts) {
                writer.write(part.duplicate());
            }
            writer.complete();
        }
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
     * Fills the targets' remaining bytes, one after another, from {@code position}, as far as the object
     * goes (on S3 one ranged GET), and returns how many bytes were read: fewer than asked only where the
     * object ends, none from its end on. Fails with {@link ObjectMissingException} if there is no such object,
     * so that one read also tells whether the object exists. This default asks for the object's size first;
     * a store that learns where an object ends from the read itself overrides it.
     */
    default long readAtMost(String key, long position, ByteBuffer... targets) {
        long available = Math.max(0, size(key) - position);
        long read = 0;
        for (ByteBuffer target : targets) {
            int length = (int) Math.min(target.remaining(), available - read);
            if (length <= 0) {
                break;
            }
            readInto(key, position + read, target.slice().limit(length));
            target.position(target.position() + length);
            read += length;
        }
        return read;
    }

    /** The object's size in bytes; fails with {@link ObjectMissingException} if there is no such object. */
    long size(String key);

    /** File channels on the objects, where the store keeps them as local files; empty otherwise. */
    default Optional<FileAccess> files() {
        return Optional.empty();
    }

    /** WAL files made ahead and written in place, where the store offers them; empty otherwise. */
    default Optional<WalFileStore> walFiles() {
        return Optional.empty();
    }

    /** Keys of every object whose key starts with the prefix. */
    List<String> list(String prefix);

    /** Deletes the object; deleting a missing object is not an error. */
    void delete(String key);

    /**
     * Deletes the objects as {@link #delete} does each, with as few requests as the store allows (on S3 one
     * per thousand keys, where {@link #delete} is one per key); fails if any of them could not be deleted.
     */
    default void deleteAll(Collection<String> keys) {
        for (String key : keys) {
            delete(key);
        }
    }

    @Override
    void close();
}
