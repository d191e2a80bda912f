package dev.weir.storage;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Blocks of objects in memory, bounded in bytes: an insertion beyond the bound evicts the blocks used
 * least recently. A block weighs its bytes plus {@value #ENTRY_OVERHEAD_BYTES}, what its entry costs
 * besides them, so that many small objects cannot exceed the bound either. Thread-safe: one lock, held to
 * look up, insert and evict, never while bytes are fetched or copied.
 */
final class BlockCache {
    /** About what an entry costs besides its bytes: the map's node, the block's id and its arrays' headers. */
    static final int ENTRY_OVERHEAD_BYTES = 256;

    private final long maxBytes;
    /** In order of use, the least recently used first. */
    private final LinkedHashMap<BlockId, Block> blocks = new LinkedHashMap<>(1024, 0.75f, true);
    /** The objects with cached blocks, so that deleting one finds its blocks without a scan of all. */
    private final Map<String, CachedObject> objects = new HashMap<>();
    private long bytes;

    BlockCache(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** The block, now the most recently used, or null if it is not cached. */
    synchronized Block get(BlockId id) {
        return blocks.get(id);
    }

    /** Keeps the block as the most recently used, then evicts the least recently used beyond the bound. */
    synchronized void put(BlockId id, Block block) {
        Block previous = blocks.put(id, block);
        if (previous != null) {
            bytes -= weight(previous);
        } else {
            objects.computeIfAbsent(id.key(), key -> new CachedObject()).add(id.index());
        }
        bytes += weight(block);
        Iterator<Map.Entry<BlockId, Block>> leastRecentlyUsed = blocks.entrySet().iterator();
        while (bytes > maxBytes) {
            Map.Entry<BlockId, Block> evicted = leastRecentlyUsed.next();
            leastRecentlyUsed.remove();
            bytes -= weight(evicted.getValue());
            CachedObject object = objects.get(evicted.getKey().key());
            if (--object.blocks == 0) {
                objects.remove(evicted.getKey().key());
            }
        }
    }

    /** Drops every block of the object. */
    synchronized void remove(String key) {
        CachedObject object = objects.remove(key);
        if (object == null) {
            return;
        }
        int removed = 0;
        for (long index = 0; index <= object.highestIndex; index++) {
            Block block = blocks.remove(new BlockId(key, index));
            if (block != null) {
                bytes -= weight(block);
                removed++;
            }
        }
        if (removed != object.blocks) {
            throw new IllegalStateException("object " + key + " had " + removed + " cached blocks, not " + object.blocks);
        }
    }

    /** The bytes held, as the bound counts them. */
    synchronized long bytes() {
        return bytes;
    }

    private static long weight(Block block) {
        return block.length() + (long) ENTRY_OVERHEAD_BYTES;
    }

    /** How many blocks of an object are cached, and the highest index any of them may have. */
    private static final class CachedObject {
        int blocks;
        long highestIndex;

        void add(long index) {
            blocks++;
            highestIndex = Math.max(highestIndex, index);
        }
    }
}
