package dev.weir.groups;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ScheduledFuture;
import java.util.function.BiPredicate;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;

/**
 * A member of a consumer-protocol group (KIP-848): its subscription, its epoch and the partitions it
 * owns, reconciled towards its part of the group's target assignment one heartbeat at a time. A
 * partition is never given to a member while another member still owns it, and a member must give
 * up the partitions it loses before it moves to the new epoch.
 *
 * <p>Legal state transitions, decided by {@link #reconcile} (after Kafka's CurrentAssignmentBuilder):
 * <pre>
 * STABLE                -> STABLE                (new target epoch: nothing to revoke, every new partition free;
 *                                                 epoch := target epoch)
 *                       -> UNREVOKED_PARTITIONS  (new target epoch, or subscription shrank: it must revoke
 *                                                 partitions it still reports as owned; epoch unchanged)
 *                       -> UNRELEASED_PARTITIONS (new target epoch: nothing to revoke, but some of its new
 *                                                 partitions are still owned by others; epoch := target epoch)
 * UNREVOKED_PARTITIONS  -> STABLE | UNRELEASED_PARTITIONS (its heartbeat no longer lists the revoked
 *                                                 partitions; epoch := target epoch)
 *                       -> UNREVOKED_PARTITIONS  (still owns them: waits, at most its rebalance timeout)
 * UNRELEASED_PARTITIONS -> STABLE | UNRELEASED_PARTITIONS | UNREVOKED_PARTITIONS (on each heartbeat,
 *                                                 towards the latest target)
 * any                   -> removed               (leave with epoch -1, session timeout, rebalance timeout)
 * any (static member)   -> epoch -2              (leave with epoch -2: kept, with its partitions, until its
 *                                                 instance id rejoins or its session times out)
 * </pre>
 * Confined to the coordinator thread.
 */
final class ConsumerGroupMember {
    /** Epoch of a member that left; of a static member that will be back. */
    static final int LEAVE_EPOCH = -1;
    static final int STATIC_LEAVE_EPOCH = -2;
    /** A subscribed name's set entry, and its share of the group's count of subscribers per name. */
    private static final long TOPIC_NAME_BYTES = 64;

    enum State {
        /** Owns exactly its target (or waits for nothing). */
        STABLE,
        /** Must revoke the partitions pending revocation before it may move to the next epoch. */
        UNREVOKED_PARTITIONS,
        /** At the target epoch, but some of its target partitions are still owned by other members. */
        UNRELEASED_PARTITIONS
    }

    final String memberId;
    final String instanceId;
    String rackId;
    String clientId = "";
    String clientHost = "";
    int rebalanceTimeoutMs = -1;
    Set<String> subscribedTopicNames = Set.of();
    String subscribedTopicRegex;
    String serverAssignor;
    int memberEpoch;
    int previousMemberEpoch;
    State state = State.STABLE;
    /** Partitions the member may use; values are never empty; replaced, never mutated. */
    Map<Uuid, Set<Integer>> assigned = Map.of();
    /** Partitions the member must revoke (it still owns them); replaced, never mutated. */
    Map<Uuid, Set<Integer>> pendingRevocation = Map.of();
    ScheduledFuture<?> sessionTimer;
    ScheduledFuture<?> rebalanceTimer;
    /** What this member holds of the coordinator's budget, as charged for its last heartbeat. */
    long heldBytes;

    ConsumerGroupMember(String memberId, String instanceId) {
        this.memberId = memberId;
        this.instanceId = instanceId;
    }

    /** A member with a new id taking over a static member's place: same subscription and partitions. */
    ConsumerGroupMember replacing(String newMemberId) {
        ConsumerGroupMember copy = new ConsumerGroupMember(newMemberId, instanceId);
        copy.rackId = rackId;
        copy.clientId = clientId;
        copy.clientHost = clientHost;
        copy.rebalanceTimeoutMs = rebalanceTimeoutMs;
        copy.subscribedTopicNames = subscribedTopicNames;
        copy.subscribedTopicRegex = subscribedTopicRegex;
        copy.serverAssignor = serverAssignor;
        copy.state = state;
        copy.assigned = assigned;
        copy.pendingRevocation = pendingRevocation;
        return copy;
    }

    /**
     * The heap this member holds once the heartbeat's fields are applied as {@code update} applies them
     * (absent fields keep their values): its ids and subscription, and the objects around them.
     */
    long estimatedBytesAfter(ConsumerGroupHeartbeatRequestData request, String newClientId, String newClientHost) {
        String client = newClientId == null ? "" : newClientId;
        String host = newClientHost == null ? "" : newClientHost;
        if (heldBytes > 0 && request.subscribedTopicNames() == null && request.subscribedTopicRegex() == null
            && request.rackId() == null && client.equals(clientId) && host.equals(clientHost)) {
            return heldBytes;
        }
        long bytes = GroupMemory.MEMBER_BYTES + GroupMemory.bytesOf(memberId) + GroupMemory.bytesOf(instanceId)
            + GroupMemory.bytesOf(request.rackId() != null ? request.rackId() : rackId)
            + GroupMemory.bytesOf(client) + GroupMemory.bytesOf(host)
            + GroupMemory.bytesOf(request.subscribedTopicRegex() != null ? request.subscribedTopicRegex()
                : subscribedTopicRegex);
        for (String name : request.subscribedTopicNames() != null ? request.subscribedTopicNames()
            : subscribedTopicNames) {
            bytes += TOPIC_NAME_BYTES + GroupMemory.bytesOf(name);
        }
        return bytes;
    }

    boolean isReconciledTo(int targetEpoch) {
        return state == State.STABLE && memberEpoch == targetEpoch;
    }

    void cancelTimers() {
        cancelSessionTimer();
        cancelRebalanceTimer();
    }

    void cancelSessionTimer() {
        if (sessionTimer != null) {
            sessionTimer.cancel(false);
            sessionTimer = null;
        }
    }

    void cancelRebalanceTimer() {
        if (rebalanceTimer != null) {
            rebalanceTimer.cancel(false);
            rebalanceTimer = null;
        }
    }

    /** A static member leaving temporarily: keeps its partitions, forgets what it was revoking. */
    void leaveTemporarily() {
        updateEpoch(STATIC_LEAVE_EPOCH);
        pendingRevocation = Map.of();
        if (state == State.UNREVOKED_PARTITIONS) {
            state = State.STABLE;
        }
    }

    private void updateEpoch(int epoch) {
        previousMemberEpoch = memberEpoch;
        memberEpoch = epoch;
    }

    /**
     * Moves the member one step towards its target, as far as the partitions it reports as owned
     * (null: unchanged since its last heartbeat, so still owning what it owned) and the other
     * members' ownership allow.
     *
     * @param ownedByOther whether a partition is owned (assigned or pending revocation) by another member
     * @return whether the member's epoch, state or partitions changed
     */
    boolean reconcile(int targetEpoch, Map<Uuid, Set<Integer>> target, Set<Uuid> subscribedTopicIds,
                      List<ConsumerGroupHeartbeatRequestData.TopicPartitions> owned,
                      BiPredicate<Uuid, Integer> ownedByOther, boolean subscriptionChanged) {
        int epochBefore = memberEpoch;
        State stateBefore = state;
        Map<Uuid, Set<Integer>> assignedBefore = assigned;
        Map<Uuid, Set<Integer>> pendingBefore = pendingRevocation;
        switch (state) {
            case STABLE -> {
                if (memberEpoch != targetEpoch) {
                    moveTowards(targetEpoch, target, subscribedTopicIds, owned, ownedByOther);
                } else if (subscriptionChanged) {
                    dropUnsubscribed(subscribedTopicIds, owned);
                }
            }
            case UNREVOKED_PARTITIONS -> {
                if (!stillOwnsAny(pendingRevocation, owned)) {
                    moveTowards(targetEpoch, target, subscribedTopicIds, owned, ownedByOther);
                } else if (subscriptionChanged) {
                    dropUnsubscribed(subscribedTopicIds, owned);
                }
            }
            case UNRELEASED_PARTITIONS -> moveTowards(targetEpoch, target, subscribedTopicIds, owned, ownedByOther);
            default -> throw new IllegalStateException("Unknown member state " + state);
        }
        return epochBefore != memberEpoch || stateBefore != state || !assignedBefore.equals(assigned)
            || !pendingBefore.equals(pendingRevocation);
    }

    /** Whether the reported owned partitions include any of these (null reports own everything). */
    private static boolean stillOwnsAny(Map<Uuid, Set<Integer>> partitions,
                                        List<ConsumerGroupHeartbeatRequestData.TopicPartitions> owned) {
        if (owned == null) {
            return true;
        }
        for (ConsumerGroupHeartbeatRequestData.TopicPartitions topic : owned) {
            Set<Integer> wanted = partitions.get(topic.topicId());
            if (wanted != null && topic.partitions().stream().anyMatch(wanted::contains)) {
                return true;
            }
        }
        return false;
    }

    /** The subscription lost topics at the same epoch: their partitions are revoked, nothing is added. */
    private void dropUnsubscribed(Set<Uuid> subscribedTopicIds,
                                  List<ConsumerGroupHeartbeatRequestData.TopicPartitions> owned) {
        Map<Uuid, Set<Integer>> kept = new HashMap<>();
        Map<Uuid, Set<Integer>> revoking = new HashMap<>(pendingRevocation);
        assigned.forEach((topic, partitions) -> {
            if (subscribedTopicIds.contains(topic)) {
                kept.put(topic, partitions);
            } else {
                revoking.merge(topic, partitions, Partitions::union);
            }
        });
        if (kept.size() == assigned.size()) {
            return;
        }
        assigned = Map.copyOf(kept);
        updateEpoch(memberEpoch);
        if (!revoking.isEmpty() && stillOwnsAny(revoking, owned)) {
            state = State.UNREVOKED_PARTITIONS;
            pendingRevocation = Map.copyOf(revoking);
        }
    }

    /** Kafka's computeNextAssignment: revoke first; then take the target epoch and the free partitions. */
    private void moveTowards(int targetEpoch, Map<Uuid, Set<Integer>> target, Set<Uuid> subscribedTopicIds,
                             List<ConsumerGroupHeartbeatRequestData.TopicPartitions> owned,
                             BiPredicate<Uuid, Integer> ownedByOther) {
        Map<Uuid, Set<Integer>> keep = new HashMap<>();
        Map<Uuid, Set<Integer>> revoke = new HashMap<>();
        Map<Uuid, Set<Integer>> add = new HashMap<>();
        boolean unreleased = false;
        Set<Uuid> topics = new HashSet<>(target.keySet());
        topics.addAll(assigned.keySet());
        for (Uuid topic : topics) {
            Set<Integer> wanted = subscribedTopicIds.contains(topic) ? target.getOrDefault(topic, Set.of()) : Set.of();
            Set<Integer> current = assigned.getOrDefault(topic, Set.of());
            Set<Integer> kept = new TreeSet<>(current);
            kept.retainAll(wanted);
            Set<Integer> revoked = new TreeSet<>(current);
            revoked.removeAll(kept);
            Set<Integer> added = new TreeSet<>();
            for (int partition : wanted) {
                if (kept.contains(partition)) {
                    continue;
                }
                if (ownedByOther.test(topic, partition)) {
                    unreleased = true;
                } else {
                    added.add(partition);
                }
            }
            putIfNotEmpty(keep, topic, kept);
            putIfNotEmpty(revoke, topic, revoked);
            putIfNotEmpty(add, topic, added);
        }
        if (!revoke.isEmpty() && stillOwnsAny(revoke, owned)) {
            state = State.UNREVOKED_PARTITIONS;
            updateEpoch(memberEpoch);
            assigned = Map.copyOf(keep);
            pendingRevocation = Map.copyOf(revoke);
            return;
        }
        add.forEach((topic, partitions) -> keep.merge(topic, partitions, Partitions::union));
        state = unreleased ? State.UNRELEASED_PARTITIONS : State.STABLE;
        updateEpoch(targetEpoch);
        assigned = Map.copyOf(keep);
        pendingRevocation = Map.of();
    }

    private static void putIfNotEmpty(Map<Uuid, Set<Integer>> map, Uuid topic, Set<Integer> partitions) {
        if (!partitions.isEmpty()) {
            map.put(topic, Set.copyOf(partitions));
        }
    }
}
