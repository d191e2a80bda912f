package dev.weir.groups;

import dev.weir.groups.ClassicGroup.State;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData.SyncGroupRequestAssignment;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;

/**
 * SyncGroup and Heartbeat of the classic protocol, the part of a member's life after it joined.
 * Called only on the coordinator thread, through {@link GroupCoordinator}.
 */
final class ClassicSyncAndHeartbeat {
    private static final byte[] NO_ASSIGNMENT = new byte[0];

    private final GroupCoordinator coordinator;

    ClassicSyncAndHeartbeat(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    /** SyncGroup: the leader's assignment is handed out; others wait for it. */
    CompletableFuture<SyncGroupResponseData> sync(SyncGroupRequestData request) {
        ClassicGroup group = coordinator.groups.get(request.groupId());
        Errors error = group == null ? Errors.UNKNOWN_MEMBER_ID
            : GroupCoordinator.validateMember(group, request.memberId(), request.groupInstanceId());
        if (error == Errors.NONE && request.generationId() != group.generationId) {
            error = Errors.ILLEGAL_GENERATION;
        }
        if (error == Errors.NONE && ((request.protocolType() != null && !request.protocolType().equals(group.protocolType))
            || (request.protocolName() != null && !request.protocolName().equals(group.protocolName)))) {
            error = Errors.INCONSISTENT_GROUP_PROTOCOL;
        }
        if (error != Errors.NONE) {
            return CompletableFuture.completedFuture(new SyncGroupResponseData().setErrorCode(error.code()));
        }
        ClassicMember member = group.members.get(request.memberId());
        switch (group.state) {
            case PREPARING_REBALANCE -> {
                return CompletableFuture.completedFuture(
                    new SyncGroupResponseData().setErrorCode(Errors.REBALANCE_IN_PROGRESS.code()));
            }
            case COMPLETING_REBALANCE -> {
                CompletableFuture<SyncGroupResponseData> future = new CompletableFuture<>();
                member.syncFuture = future;
                coordinator.scheduleSessionExpiry(group, member);
                if (member.memberId.equals(group.leaderId)) {
                    applyAssignment(group, request.assignments());
                }
                return future;
            }
            case STABLE -> {
                coordinator.scheduleSessionExpiry(group, member);
                return CompletableFuture.completedFuture(syncResponse(group, member));
            }
            default -> {
                return CompletableFuture.completedFuture(
                    new SyncGroupResponseData().setErrorCode(Errors.UNKNOWN_MEMBER_ID.code()));
            }
        }
    }

    private void applyAssignment(ClassicGroup group, List<SyncGroupRequestAssignment> assignments) {
        Map<String, byte[]> byMember = new HashMap<>();
        for (SyncGroupRequestAssignment assignment : assignments) {
            byMember.put(assignment.memberId(), assignment.assignment());
        }
        long growth = 0;
        for (ClassicMember each : group.members.values()) {
            growth += each.estimatedBytes(each.protocols, byMember.getOrDefault(each.memberId, NO_ASSIGNMENT))
                - each.heldBytes;
        }
        if (!coordinator.memory.tryCharge(group.held, growth)) {
            refuseAssignment(group);
            return;
        }
        for (ClassicMember each : group.members.values()) {
            each.assignment = byMember.getOrDefault(each.memberId, NO_ASSIGNMENT);
            each.heldBytes = each.estimatedBytes();
        }
        group.transition(State.STABLE, coordinator.clock.millis());
        for (ClassicMember each : group.members.values()) {
            if (each.syncFuture != null) {
                CompletableFuture<SyncGroupResponseData> waiting = each.syncFuture;
                each.syncFuture = null;
                waiting.complete(syncResponse(group, each));
            }
        }
    }

    /**
     * An assignment that does not fit in the budget fails every waiting SyncGroup and starts the
     * rebalance again, as Kafka does when it cannot store an assignment.
     */
    private void refuseAssignment(ClassicGroup group) {
        for (ClassicMember each : group.members.values()) {
            if (each.syncFuture != null) {
                CompletableFuture<SyncGroupResponseData> waiting = each.syncFuture;
                each.syncFuture = null;
                waiting.complete(new SyncGroupResponseData().setErrorCode(Errors.GROUP_MAX_SIZE_REACHED.code()));
            }
        }
        coordinator.prepareRebalance(group, "the leader's assignment does not fit in group.max.total.metadata.bytes");
    }

    private static SyncGroupResponseData syncResponse(ClassicGroup group, ClassicMember member) {
        return new SyncGroupResponseData().setErrorCode(Errors.NONE.code()).setProtocolType(group.protocolType)
            .setProtocolName(group.protocolName).setAssignment(member.assignment);
    }

    /** Heartbeat: keeps the member's session; REBALANCE_IN_PROGRESS tells it to rejoin. */
    HeartbeatResponseData heartbeat(HeartbeatRequestData request) {
        ClassicGroup group = coordinator.groups.get(request.groupId());
        Errors error = group == null ? Errors.UNKNOWN_MEMBER_ID
            : GroupCoordinator.validateMember(group, request.memberId(), request.groupInstanceId());
        if (error == Errors.NONE && request.generationId() != group.generationId) {
            error = Errors.ILLEGAL_GENERATION;
        }
        if (error != Errors.NONE) {
            return new HeartbeatResponseData().setErrorCode(error.code());
        }
        ClassicMember member = group.members.get(request.memberId());
        switch (group.state) {
            case EMPTY, DEAD -> error = Errors.UNKNOWN_MEMBER_ID;
            case PREPARING_REBALANCE -> {
                coordinator.scheduleSessionExpiry(group, member);
                error = Errors.REBALANCE_IN_PROGRESS;
            }
            default -> coordinator.scheduleSessionExpiry(group, member);
        }
        return new HeartbeatResponseData().setErrorCode(error.code());
    }
}
