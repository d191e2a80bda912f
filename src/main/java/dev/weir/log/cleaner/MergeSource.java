package dev.weir.log.cleaner;

import dev.weir.storage.ObjectStore;
import dev.weir.storage.ObjectWriter;
import dev.weir.storage.StorageException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * Where merging reads the bytes it copies. A store with local files is read as asked: positional reads,
 * and copies file to file in the kernel. On a store without them (S3) every read is a request, and a WAL
 * object holds batches of many partitions, which merging copies one partition after another; so a merging
 * pass goes through its WAL objects a {@link Window} at a time, and each WAL object of the window is read
 * whole, with one read of the store, the first time a batch of it is asked for, then kept for the
 * partitions after it. That read goes through the store's cache, which holds the objects the broker wrote
 * lately: those cost no request at all. The objects held take one buffer of at most {@code windowBytes},
 * made when first needed and kept for the next passes; a WAL object larger than that, and every other
 * object (segments, WAL files thinned out), is read as asked.
 *
 * <p>Not thread-safe: the cleaner thread's. The legal order is {@link #windows}, then for each window
 * {@link #startWindow}, reads, {@link #endWindow}.
 */
final class MergeSource {
    private final ObjectStore store;
    private final ToLongFunction<String> objectSize;
    private final int windowBytes;
    /** Whether WAL objects are held: on a store without local files, with a window of some bytes. */
    private final boolean holding;
    private ByteBuffer buffer = ByteBuffer.allocateDirect(0);
    /** The sizes of the objects of the current window that are held once read; empty between windows. */
    private Map<String, Long> sizes = Map.of();
    /** Where in the buffer the objects read so far begin. */
    private final Map<String, Integer> held = new HashMap<>();
    private int used;

    /**
     * WAL objects merged together, in key order, and the sizes of those that are held once read (the others
     * are read as asked).
     */
    record Window(List<String> objectKeys, Map<String, Long> heldSizes) {
        Window {
            if (objectKeys.isEmpty()) {
                throw new IllegalArgumentException("a window of no objects");
            }
        }

        String lastKey() {
            return objectKeys.get(objectKeys.size() - 1);
        }
    }

    /**
     * @param objectSize the recorded size of a committed object, or -1 (the metadata store's)
     * @param windowBytes the most bytes of WAL objects held at once; 0 holds none
     */
    MergeSource(ObjectStore store, ToLongFunction<String> objectSize, int windowBytes) {
        if (windowBytes < 0) {
            throw new IllegalArgumentException("a merging window of " + windowBytes + " bytes");
        }
        this.store = store;
        this.objectSize = objectSize;
        this.windowBytes = windowBytes;
        this.holding = store.files().isEmpty() && windowBytes > 0;
    }

    /**
     * The WAL objects of a merging pass (in key order) cut into windows, in order, whose held objects add up
     * to at most {@code windowBytes} each; one window of them all where none are held. An object whose
     * size is unknown or larger than the window is not held, and goes with the window before it.
     */
    List<Window> windows(List<String> walObjects) {
        if (!holding) {
            return walObjects.isEmpty() ? List.of() : List.of(new Window(List.copyOf(walObjects), Map.of()));
        }
        List<Window> windows = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        Map<String, Long> heldSizes = new HashMap<>();
        long bytes = 0;
        for (String key : walObjects) {
            long size = objectSize.applyAsLong(key);
            boolean fits = size >= 0 && size <= windowBytes;
            if (fits && bytes + size > windowBytes) {
                windows.add(new Window(keys, heldSizes));
                keys = new ArrayList<>();
                heldSizes = new HashMap<>();
                bytes = 0;
            }
            keys.add(key);
            if (fits) {
                heldSizes.put(key, size);
                bytes += size;
            }
        }
        if (!keys.isEmpty()) {
            windows.add(new Window(keys, heldSizes));
        }
        return windows;
    }

    /** Starts holding the objects of the window as they are first read, in a buffer big enough for all of them. */
    void startWindow(Window window) {
        long bytes = window.heldSizes().values().stream().mapToLong(Long::longValue).sum();
        if (bytes > windowBytes) {
            throw new IllegalStateException("a window of " + bytes + " bytes, more than " + windowBytes);
        }
        if (buffer.capacity() < bytes) {
            buffer = ByteBuffer.allocateDirect((int) bytes);
        }
        sizes = window.heldSizes();
        held.clear();
        used = 0;
    }

    /** Forgets the window's objects; the buffer stays for the next window. */
    void endWindow() {
        sizes = Map.of();
        held.clear();
        used = 0;
    }

    /** Fills the target's remaining bytes from the object at {@code position}; fails if the object is shorter. */
    void readInto(String key, long position, ByteBuffer target) {
        ByteBuffer object = object(key);
        if (object == null) {
            store.readInto(key, position, target);
            return;
        }
        target.put(range(key, object, position, target.remaining()));
    }

    /** Appends {@code length} bytes of the object from {@code position} to the writer. */
    void copyTo(ObjectWriter writer, String key, long position, long length) {
        ByteBuffer object = object(key);
        if (object == null) {
            writer.writeFrom(key, position, length);
            return;
        }
        writer.write(range(key, object, position, length));
    }

    /** Whether the object's bytes are in memory, read now if they are to be and were not yet. */
    boolean holds(String key) {
        return object(key) != null;
    }

    /** The held object's bytes, read whole on first use, or null if it is not held. */
    private ByteBuffer object(String key) {
        Long size = sizes.get(key);
        if (size == null) {
            return null;
        }
        Integer at = held.get(key);
        if (at == null) {
            at = used;
            store.readInto(key, 0, buffer.slice(at, size.intValue()));
            held.put(key, at);
            used += size.intValue();
        }
        return buffer.slice(at, size.intValue());
    }

    private static ByteBuffer range(String key, ByteBuffer object, long position, long length) {
        if (position < 0 || length < 0 || position + length > object.capacity()) {
            throw new StorageException("object " + key + " of " + object.capacity() + " bytes ends before byte "
                + (position + length));
        }
        return object.slice((int) position, (int) length);
    }
}
