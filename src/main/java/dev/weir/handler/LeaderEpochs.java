package dev.weir.handler;

import dev.weir.log.Log;
import org.apache.kafka.common.protocol.Errors;

/** The check of a client's current leader epoch against the single epoch a node's partitions have. */
final class LeaderEpochs {
    private LeaderEpochs() {
    }

    /** NONE when absent (-1) or current; UNKNOWN_LEADER_EPOCH when newer; FENCED_LEADER_EPOCH when older. */
    static Errors check(int currentLeaderEpoch) {
        if (currentLeaderEpoch > Log.LEADER_EPOCH) {
            return Errors.UNKNOWN_LEADER_EPOCH;
        }
        if (currentLeaderEpoch >= 0 && currentLeaderEpoch < Log.LEADER_EPOCH) {
            return Errors.FENCED_LEADER_EPOCH;
        }
        return Errors.NONE;
    }
}
