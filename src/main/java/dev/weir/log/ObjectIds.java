package dev.weir.log;

import java.time.Clock;

/**
 * Ids for new objects that no other broker writing to the same store can take, in the order they were
 * made: the milliseconds since {@link #EPOCH_MILLIS}, then the broker's node id, then a count within the
 * millisecond ({@value #NODE_BITS} and {@value #SEQUENCE_BITS} bits below the time), so an id needs no
 * coordination and keys still sort by age. Ids never go back, whatever the clock does: an id is at least
 * one more than the last one made or found in the store. Thread-safe.
 */
final class ObjectIds {
    /** 2026-01-01T00:00:00Z: with 41 bits of milliseconds above the node and count, ids last until 2095. */
    static final long EPOCH_MILLIS = 1_767_225_600_000L;
    static final int NODE_BITS = 12;
    static final int SEQUENCE_BITS = 10;
    /** Node ids are taken modulo this: brokers sharing a store need node ids that differ in their low 12 bits. */
    static final int NODES = 1 << NODE_BITS;

    private final Clock clock;
    private final long node;
    private long last;

    /** Ids for broker {@code nodeId}, each greater than {@code atLeast} (ids found in the store, or -1). */
    ObjectIds(Clock clock, int nodeId, long atLeast) {
        this.clock = clock;
        this.node = Math.floorMod(nodeId, NODES);
        this.last = atLeast;
    }

    /** The node id (its low {@value #NODE_BITS} bits) of the broker that made the id. */
    static long node(long id) {
        return (id >>> SEQUENCE_BITS) & (NODES - 1);
    }

    synchronized long next() {
        long fromClock = ((clock.millis() - EPOCH_MILLIS) << (NODE_BITS + SEQUENCE_BITS)) | (node << SEQUENCE_BITS);
        // Within one millisecond, and when the clock stands still or goes back, the count below the node bits goes
        // on; once it is spent, the id borrows from the next millisecond, which keeps ids unique and ordered.
        last = Math.max(fromClock, last + 1);
        if (((last >>> SEQUENCE_BITS) & (NODES - 1)) != node) {
            last = ((last >>> (NODE_BITS + SEQUENCE_BITS)) + 1 << (NODE_BITS + SEQUENCE_BITS)) | (node << SEQUENCE_BITS);
        }
        return last;
    }
}
