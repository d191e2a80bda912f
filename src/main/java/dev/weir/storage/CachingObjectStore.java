package dev.weir.storage;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An object store without local files (S3) that keeps the bytes last written and read in memory, bounded
 * in bytes, so that reads cost fewer requests. An object put through it is kept as it is uploaded, so
 * tail consumers read the WAL objects this broker wrote without a GET. A read that misses fetches whole
 * aligned blocks of {@code blockBytes} (a small object whole), the adjacent missing blocks of one read with
 * one GET, so that a reader walking through an object makes one GET per block rather than one per batch;
 * concurrent misses of one block make one GET. Objects written in pieces ({@link #create}) are not kept:
 * they are merged segments, large, and read later if at all.
 * <p>
 * Blocks live on the heap, in arrays of at most {@value Block#CHUNK_BYTES} bytes: the garbage collector
 * frees an evicted block as soon as the last read copying from it is done, with no reference counts
 * between readers and eviction and no direct memory to run out of, and arrays that small are never
 * humongous objects (G1 allocates an array of half a region or more, 512 KiB at a 1 GiB heap, in whole
 * regions of its own). The blocks used least recently are evicted first ({@link BlockCache}).
 * <p>
 * Deleting an object drops its blocks. A read racing the deletion of its own object may leave blocks of it
 * behind until they are evicted; nothing asks for them, since keys are never reused. Thread-safe.
 */
public final class CachingObjectStore implements ObjectStore {
    /** What a block costs besides its bytes, counted against the bound. */
    public static final int ENTRY_OVERHEAD_BYTES = BlockCache.ENTRY_OVERHEAD_BYTES;

    private final ObjectStore store;
    private final int blockBytes;
    private final BlockCache blocks;
    /** Blocks being fetched, so that concurrent misses of one block wait for one GET. */
    private final ConcurrentHashMap<BlockId, CompletableFuture<Block>> fetching = new ConcurrentHashMap<>();

    /** Caches {@code store}'s objects in at most {@code maxBytes}, fetching {@code blockBytes} at a time. */
    public CachingObjectStore(ObjectStore store, long maxBytes, int blockBytes) {
        if (store.files().isPresent()) {
            throw new IllegalArgumentException("a store with local files is read from them, not cached: " + store);
        }
        if (maxBytes < 1 || blockBytes < 1) {
            throw new IllegalArgumentException("a cache of " + maxBytes + " bytes in blocks of " + blockBytes);
        }
        this.store = store;
        this.blockBytes = blockBytes;
        this.blocks = new BlockCache(maxBytes);
    }

    /** The bytes held, as the bound counts them. */
    public long cachedBytes() {
        return blocks.bytes();
    }

    @Override
    public String toString() {
        return store.toString();
    }

    @Override
    public ObjectWriter create(String key) {
        return store.create(key);
    }

    /** Uploads the object, then keeps its bytes, which the next reads of a new object usually want. */
    @Override
    public void put(String key, ByteBuffer... parts) {
        store.put(key, parts);
        long size = 0;
        ByteBuffer[] sources = new ByteBuffer[parts.length];
        for (int i = 0; i < parts.length; i++) {
            sources[i] = parts[i].duplicate();
            size += sources[i].remaining();
        }
        int source = 0;
        for (long index = 0; index * blockBytes < size; index++) {
            ByteBuffer[] chunks = Block.allocate((int) Math.min(blockBytes, size - index * blockBytes));
            for (ByteBuffer chunk : chunks) {
                while (chunk.hasRemaining()) {
                    while (!sources[source].hasRemaining()) {
                        source++;
                    }
                    ByteBuffer from = sources[source];
                    int length = Math.min(chunk.remaining(), from.remaining());
                    chunk.put(from.slice().limit(length));
                    from.position(from.position() + length);
                }
            }
            keep(new BlockId(key, index), Block.of(chunks));
        }
    }

    @Override
    public void readInto(String key, long position, ByteBuffer target) {
        int length = target.remaining();
        if (length == 0) {
            return;
        }
        if (position < 0) {
            throw new IllegalArgumentException("reading object " + key + " at position " + position);
        }
        long end = position + length;
        long first = position / blockBytes;
        Block[] found = blocks(key, first, (int) ((end - 1) / blockBytes - first + 1));
        for (int i = 0; i < found.length; i++) {
            long blockStart = (first + i) * blockBytes;
            int from = (int) (Math.max(position, blockStart) - blockStart);
            int to = (int) (Math.min(end, blockStart + blockBytes) - blockStart);
            if (found[i].length() < to) {
                throw new StorageException("object " + key + " ends before byte " + end);
            }
            found[i].copyTo(from, target, to - from);
        }
    }

    /**
     * Reads from the blocks the range spans, as {@link #readInto} does, and learns where the object ends
     * from its last block, which is short or empty: a miss costs one GET, and no HEAD for the object's size.
     */
    @Override
    public long readAtMost(String key, long position, ByteBuffer... targets) {
        long length = ObjectStore.remaining(targets);
        if (length == 0) {
            return 0;
        }
        if (position < 0) {
            throw new IllegalArgumentException("reading object " + key + " at position " + position);
        }
        long end = position + length;
        long first = position / blockBytes;
        Block[] found = blocks(key, first, (int) ((end - 1) / blockBytes - first + 1));
        long read = 0;
        int target = 0;
        for (int i = 0; i < found.length; i++) {
            long blockStart = (first + i) * blockBytes;
            int from = (int) (Math.max(position, blockStart) - blockStart);
            int to = (int) Math.min(found[i].length(), Math.min(end, blockStart + blockBytes) - blockStart);
            while (from < to) {
                while (!targets[target].hasRemaining()) {
                    target++;
                }
                int count = Math.min(to - from, targets[target].remaining());
                found[i].copyTo(from, targets[target], count);
                from += count;
                read += count;
            }
            if (found[i].length() < blockBytes) {
                break; // the object ends in this block
            }
        }
        return read;
    }

    /**
     * Blocks {@code first} to {@code first + count - 1} of the object: those cached, those another read is
     * fetching once it has them, and the rest fetched here, each run of adjacent ones with one GET. Beyond
     * the object's end a block is empty.
     */
    private Block[] blocks(String key, long first, int count) {
        Block[] found = new Block[count];
        List<CompletableFuture<Block>> awaited = new ArrayList<>(Collections.nCopies(count, null));
        boolean[] claimed = new boolean[count];
        for (int i = 0; i < count; i++) {
            BlockId id = new BlockId(key, first + i);
            found[i] = blocks.get(id);
            if (found[i] != null) {
                continue;
            }
            CompletableFuture<Block> claim = new CompletableFuture<>();
            CompletableFuture<Block> other = fetching.putIfAbsent(id, claim);
            if (other != null) {
                awaited.set(i, other);
            } else if ((found[i] = blocks.get(id)) != null) {
                // Fetched and kept by another read between the lookup and the claim.
                fetching.remove(id, claim);
                claim.complete(found[i]);
            } else {
                awaited.set(i, claim);
                claimed[i] = true;
            }
        }
        // This read fetches what it claimed before it waits for others, so no two reads wait for each other.
        fetchClaimed(key, first, found, awaited, claimed);
        for (int i = 0; i < count; i++) {
            if (found[i] == null) {
                found[i] = await(key, awaited.get(i));
            }
        }
        return found;
    }

    private void fetchClaimed(String key, long first, Block[] found, List<CompletableFuture<Block>> claims,
                              boolean[] claimed) {
        try {
            for (int start = 0; start < claimed.length; ) {
                int end = start;
                while (end < claimed.length && claimed[end]) {
                    end++;
                }
                if (end == start) {
                    start++;
                    continue;
                }
                Block[] fetched = fetch(key, first + start, end - start);
                for (int i = start; i < end; i++) {
                    BlockId id = new BlockId(key, first + i);
                    found[i] = fetched[i - start];
                    if (found[i].length() > 0) {
                        keep(id, found[i]);
                    }
                    // Kept before the claim goes, so that a read that claims it next finds it cached.
                    fetching.remove(id, claims.get(i));
                    claims.get(i).complete(found[i]);
                    claimed[i] = false;
                }
                start = end;
            }
        } catch (RuntimeException | Error e) {
            // Reads waiting for the blocks this one claimed get its failure rather than waiting forever.
            for (int i = 0; i < claimed.length; i++) {
                if (claimed[i]) {
                    fetching.remove(new BlockId(key, first + i), claims.get(i));
                    claims.get(i).completeExceptionally(e);
                }
            }
            throw e;
        }
    }

    /** Blocks {@code first} to {@code first + count - 1} with one read of the store. */
    private Block[] fetch(String key, long first, int count) {
        ByteBuffer[][] chunks = new ByteBuffer[count][];
        List<ByteBuffer> targets = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            chunks[i] = Block.allocate(blockBytes);
            targets.addAll(Arrays.asList(chunks[i]));
        }
        store.readAtMost(key, first * blockBytes, targets.toArray(ByteBuffer[]::new));
        Block[] fetched = new Block[count];
        for (int i = 0; i < count; i++) {
            fetched[i] = Block.of(chunks[i]);
        }
        return fetched;
    }

    private static Block await(String key, CompletableFuture<Block> fetch) {
        try {
            return fetch.join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ObjectMissingException) {
                throw new ObjectMissingException(key, cause);
            }
            throw new StorageException(cause instanceof StorageException ? cause.getMessage()
                : "reading object " + key + " failed: " + cause, cause);
        }
    }

    private void keep(BlockId id, Block block) {
        if (block.length() > blockBytes) {
            throw new IllegalStateException("a block of " + block.length() + " bytes, more than " + blockBytes);
        }
        blocks.put(id, block);
    }

    @Override
    public long size(String key) {
        return store.size(key);
    }

    @Override
    public List<String> list(String prefix) {
        return store.list(prefix);
    }

    /** Deletes the object, then drops its blocks, so that no read after the deletion can fill them again. */
    @Override
    public void delete(String key) {
        store.delete(key);
        blocks.remove(key);
    }

    /** Deletes the objects, then drops their blocks, those of objects a failure left behind too (read again if asked). */
    @Override
    public void deleteAll(Collection<String> keys) {
        try {
            store.deleteAll(keys);
        } finally {
            keys.forEach(blocks::remove);
        }
    }

    @Override
    public void close() {
        store.close();
    }
}
