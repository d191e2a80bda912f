package dev.weir.groups;

import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The heap that group membership may hold, across all groups ({@code group.max.total.metadata.bytes}):
 * what members send and the coordinator keeps for as long as they stay (JoinGroup protocol metadata,
 * SyncGroup assignments, consumer-protocol subscriptions, member, instance and client ids), plus an
 * estimate of the objects around it for each group, member and pending member, and for each partition
 * of a consumer-protocol group's assignment. Without it, a few seconds of JoinGroup requests with large
 * metadata and long session timeouts fill any heap.
 *
 * <p>A join that would pass the budget is refused (the caller answers GROUP_MAX_SIZE_REACHED), and the
 * refusals are logged at most once per {@link #LOG_INTERVAL_MS}. A charge of more than
 * {@link #ORDINARY_CHARGE_BYTES} may not take the last {@link #RESERVE_DIVISOR}th of the budget, so a
 * flood of members with huge metadata leaves room for ordinary consumer groups (a few hundred bytes a
 * member). Growth that cannot be refused without failing members already in, a consumer group's
 * partition state, which follows the topics they subscribed to, is charged anyway: the budget may be
 * passed by that much, and then refuses every join until members leave.
 *
 * <p>Each group keeps in its {@link Held} what is charged for it, so that removing a group releases all
 * of it at once. Confined to the coordinator thread.
 */
final class GroupMemory {
    /** A group object with its member, pending and static-member maps and its map entry. */
    static final long GROUP_BYTES = 600;
    /** A classic member or consumer-protocol member: the object, its map entries, timers and futures. */
    static final long MEMBER_BYTES = 500;
    /** A member id waiting for its second JoinGroup (KIP-394), with its expiry timer. */
    static final long PENDING_MEMBER_BYTES = 250;
    /** One partition of a consumer group's target, assigned partitions and partition owners together. */
    static final long PARTITION_BYTES = 128;
    /** A charge up to this size is an ordinary member's and may use the whole budget. */
    static final long ORDINARY_CHARGE_BYTES = 64 * 1024;
    /** Larger charges leave this part of the budget (one eighth) free for ordinary ones. */
    static final long RESERVE_DIVISOR = 8;
    static final long LOG_INTERVAL_MS = 10_000;
    private static final Logger LOG = LoggerFactory.getLogger(GroupMemory.class);

    /** What is charged for one group, all of it released when the group goes. */
    static final class Held {
        private long bytes;

        long bytes() {
            return bytes;
        }
    }

    private final long limitBytes;
    private final Clock clock;
    private long usedBytes;
    private long refusedSinceLog;
    private long nextLogMs = Long.MIN_VALUE;

    GroupMemory(long limitBytes, Clock clock) {
        this.limitBytes = limitBytes;
        this.clock = clock;
    }

    /** A string's heap: the object, its array, and (at worst) two bytes a character. */
    static long bytesOf(String value) {
        return value == null ? 0 : 40 + 2L * value.length();
    }

    /** A new group with this id (of either protocol), before any member joins. */
    static long groupBytes(String groupId) {
        return GROUP_BYTES + bytesOf(groupId);
    }

    static long bytesOf(byte[] value) {
        return value == null ? 0 : 16 + value.length;
    }

    /** Charges {@code bytes} to the group if the budget has room (a negative charge always fits). */
    boolean tryCharge(Held group, long bytes) {
        if (bytes > 0 && usedBytes + bytes > limitFor(bytes)) {
            refused(bytes);
            return false;
        }
        usedBytes += bytes;
        group.bytes += bytes;
        return true;
    }

    private long limitFor(long bytes) {
        return bytes <= ORDINARY_CHARGE_BYTES ? limitBytes : limitBytes - limitBytes / RESERVE_DIVISOR;
    }

    /** Charges growth that cannot be refused; it may take the budget past its limit. */
    void charge(Held group, long bytes) {
        usedBytes += bytes;
        group.bytes += bytes;
    }

    void release(Held group, long bytes) {
        charge(group, -bytes);
    }

    /** Releases everything charged for a group that is being removed. */
    void releaseAll(Held group) {
        release(group, group.bytes);
    }

    long usedBytes() {
        return usedBytes;
    }

    private void refused(long bytes) {
        refusedSinceLog++;
        long nowMs = clock.millis();
        if (nowMs >= nextLogMs) {
            LOG.warn("Refused {} join(s) or assignment(s) of group members since the last report (the last needed {}"
                    + " bytes): the members of all groups hold {} of the {} bytes that group.max.total.metadata.bytes"
                    + " allows. Joins succeed again as members leave or expire.", refusedSinceLog, bytes, usedBytes,
                limitBytes);
            refusedSinceLog = 0;
            nextLogMs = nowMs + LOG_INTERVAL_MS;
        }
    }
}
