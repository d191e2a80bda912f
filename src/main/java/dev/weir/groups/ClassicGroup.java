package dev.weir.groups;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;

/**
 * A group of the classic protocol (JoinGroup/SyncGroup). Legal transitions, as in Kafka:
 * <pre>
 * Empty               -> PreparingRebalance (a member joins)
 * PreparingRebalance  -> CompletingRebalance (every member rejoined, or the rebalance timeout)
 *                     -> Empty (no member left)
 * CompletingRebalance -> Stable (the leader's SyncGroup) | PreparingRebalance (membership changed)
 * Stable              -> PreparingRebalance (a member joins, leaves, changes or expires)
 * any                 -> Dead (deleted)
 * </pre>
 * Confined to the coordinator thread.
 */
final class ClassicGroup {
    enum State {
        EMPTY("Empty"), PREPARING_REBALANCE("PreparingRebalance"), COMPLETING_REBALANCE("CompletingRebalance"),
        STABLE("Stable"), DEAD("Dead");

        final String kafkaName;

        State(String kafkaName) {
            this.kafkaName = kafkaName;
        }
    }

    final String groupId;
    State state = State.EMPTY;
    int generationId;
    String protocolType;
    String protocolName;
    String leaderId;
    long emptySinceMs;
    long initialDelayUntilMs;
    final Map<String, ClassicMember> members = new LinkedHashMap<>();
    final Set<String> pendingMembers = new HashSet<>();
    final Map<String, ScheduledFuture<?>> pendingExpiry = new HashMap<>();
    final Map<String, String> staticMembers = new HashMap<>();
    ScheduledFuture<?> rebalanceDeadline;
    /** What the group, its members and its pending members hold of the coordinator's budget. */
    final GroupMemory.Held held = new GroupMemory.Held();

    ClassicGroup(String groupId, long nowMs) {
        this.groupId = groupId;
        this.emptySinceMs = nowMs;
    }

    void transition(State next, long nowMs) {
        if (next == State.EMPTY) {
            emptySinceMs = nowMs;
        }
        state = next;
    }

    static long pendingMemberBytes(String memberId) {
        return GroupMemory.PENDING_MEMBER_BYTES + GroupMemory.bytesOf(memberId);
    }

    int size() {
        return members.size() + pendingMembers.size();
    }

    boolean allMembersJoined() {
        return pendingMembers.isEmpty() && members.values().stream().allMatch(ClassicMember::isAwaitingJoin);
    }

    /** Whether a member with these protocols may join: same type, and a protocol every member supports. */
    boolean supportsProtocols(String type, List<ClassicMember.Protocol> protocols) {
        if (type == null || type.isEmpty() || protocols.isEmpty()) {
            return false;
        }
        if (members.isEmpty()) {
            return true;
        }
        if (!type.equals(protocolType)) {
            return false;
        }
        for (ClassicMember.Protocol protocol : protocols) {
            if (members.values().stream().allMatch(member -> member.supports(protocol.name()))) {
                return true;
            }
        }
        return false;
    }

    /** The protocol every member supports that most members list first among those (Kafka's vote). */
    String selectProtocol() {
        List<String> candidates = new ArrayList<>();
        ClassicMember first = members.values().iterator().next();
        for (ClassicMember.Protocol protocol : first.protocols) {
            if (members.values().stream().allMatch(member -> member.supports(protocol.name()))) {
                candidates.add(protocol.name());
            }
        }
        Map<String, Integer> votes = new HashMap<>();
        for (ClassicMember member : members.values()) {
            for (ClassicMember.Protocol protocol : member.protocols) {
                if (candidates.contains(protocol.name())) {
                    votes.merge(protocol.name(), 1, Integer::sum);
                    break;
                }
            }
        }
        String best = candidates.get(0);
        for (String candidate : candidates) {
            if (votes.getOrDefault(candidate, 0) > votes.getOrDefault(best, 0)) {
                best = candidate;
            }
        }
        return best;
    }

    int maxRebalanceTimeoutMs() {
        return members.values().stream().mapToInt(member -> member.rebalanceTimeoutMs).max().orElse(0);
    }

    /** Topics the members subscribe to, from consumer-protocol metadata; empty if not a consumer group. */
    Set<String> subscribedTopics() {
        Set<String> topics = new HashSet<>();
        if (!"consumer".equals(protocolType) || protocolName == null) {
            return topics;
        }
        for (ClassicMember member : members.values()) {
            try {
                topics.addAll(org.apache.kafka.clients.consumer.internals.ConsumerProtocol
                    .deserializeSubscription(java.nio.ByteBuffer.wrap(member.metadata(protocolName))).topics());
            } catch (RuntimeException unreadable) {
                // Metadata that is not a consumer subscription subscribes to nothing we can name.
            }
        }
        return topics;
    }
}
