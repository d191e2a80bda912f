package dev.weir.groups;

import java.util.Set;
import org.apache.kafka.common.protocol.Errors;

/**
 * A group of the consumer protocol (KIP-848). Placeholder shape; the full implementation
 * (members, epochs, target assignment, reconciliation) lives in this class.
 */
final class ConsumerGroupState {
    final String groupId;

    ConsumerGroupState(String groupId) {
        this.groupId = groupId;
    }

    String stateName() {
        return "Empty";
    }

    boolean isEmpty() {
        return true;
    }

    Set<String> subscribedTopics() {
        return Set.of();
    }

    Errors validateCommit(String memberId, int memberEpoch) {
        return memberEpoch < 0 && memberId.isEmpty() ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID;
    }
}
