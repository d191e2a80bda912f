package dev.weir.groups;

import static dev.weir.groups.GroupCoordinator.joinError;
import static dev.weir.groups.GroupCoordinator.joinResponse;

import dev.weir.groups.ClassicGroup.State;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;

/**
 * JoinGroup of the classic protocol: new members (at once, or after learning their id first as in
 * KIP-394), static members coming back, and known members rejoining, each admitted only if the group's
 * limits and the coordinator's budget ({@link GroupMemory}) have room. Called only on the coordinator
 * thread, through {@link GroupCoordinator}.
 */
final class ClassicJoin {
    private final GroupCoordinator coordinator;

    ClassicJoin(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    CompletableFuture<JoinGroupResponseData> join(JoinGroupRequestData request, String clientId, String clientHost,
                                                  short version) {
        String memberId = request.memberId();
        Errors invalid = validateJoin(request);
        if (invalid != Errors.NONE) {
            return CompletableFuture.completedFuture(joinError(memberId, invalid));
        }
        ConsumerGroupState consumerGroup = coordinator.consumerGroups().get(request.groupId());
        if (consumerGroup != null && !consumerGroup.isEmpty()) {
            return CompletableFuture.completedFuture(joinError(memberId, Errors.INCONSISTENT_GROUP_PROTOCOL));
        }
        if (consumerGroup != null) {
            coordinator.removeConsumerGroup(consumerGroup);
        }
        ClassicGroup group = coordinator.groups.get(request.groupId());
        if (group == null) {
            if (!memberId.isEmpty()) {
                return CompletableFuture.completedFuture(joinError(memberId, Errors.UNKNOWN_MEMBER_ID));
            }
            if (coordinator.groups.size() + coordinator.consumerGroups().size() >= coordinator.settings.maxGroups()) {
                return CompletableFuture.completedFuture(joinError(memberId, Errors.GROUP_MAX_SIZE_REACHED));
            }
            // Kept only once a member is admitted (see admit), so a refused join leaves no group behind.
            group = new ClassicGroup(request.groupId(), coordinator.clock.millis());
        }
        List<ClassicMember.Protocol> protocols = new ArrayList<>();
        for (JoinGroupRequestProtocol protocol : request.protocols()) {
            protocols.add(new ClassicMember.Protocol(protocol.name(), protocol.metadata()));
        }
        if (!group.supportsProtocols(request.protocolType(), protocols)) {
            return CompletableFuture.completedFuture(joinError(memberId, Errors.INCONSISTENT_GROUP_PROTOCOL));
        }
        if (memberId.isEmpty()) {
            return joinNewMember(group, request, protocols, clientId, clientHost, version);
        }
        return joinKnownMember(group, request, protocols, clientId, clientHost);
    }

    private Errors validateJoin(JoinGroupRequestData request) {
        if (request.groupId() == null || request.groupId().isEmpty()) {
            return Errors.INVALID_GROUP_ID;
        }
        if (request.sessionTimeoutMs() < coordinator.settings.minSessionTimeoutMs()
            || request.sessionTimeoutMs() > coordinator.settings.maxSessionTimeoutMs()) {
            return Errors.INVALID_SESSION_TIMEOUT;
        }
        long metadataBytes = 0;
        for (JoinGroupRequestProtocol protocol : request.protocols()) {
            metadataBytes += protocol.metadata().length + protocol.name().length();
        }
        if (metadataBytes > coordinator.settings.maxMemberMetadataBytes()) {
            return Errors.INVALID_REQUEST;
        }
        return Errors.NONE;
    }

    private CompletableFuture<JoinGroupResponseData> joinNewMember(ClassicGroup group, JoinGroupRequestData request,
                                                                   List<ClassicMember.Protocol> protocols,
                                                                   String clientId, String clientHost, short version) {
        if (group.state == State.DEAD) {
            return CompletableFuture.completedFuture(joinError("", Errors.COORDINATOR_NOT_AVAILABLE));
        }
        String instanceId = request.groupInstanceId();
        String newMemberId = (instanceId != null ? instanceId : clientId) + "-" + UUID.randomUUID();
        if (instanceId != null && group.staticMembers.containsKey(instanceId)) {
            return replaceStaticMember(group, request, protocols, newMemberId, clientId, clientHost, version);
        }
        if (group.size() >= coordinator.settings.maxGroupSize()) {
            return CompletableFuture.completedFuture(joinError("", Errors.GROUP_MAX_SIZE_REACHED));
        }
        if (instanceId == null && version >= 4) {
            // KIP-394: the member learns its id first and joins with it, so a retried join is not a new member.
            if (!admit(group, ClassicGroup.pendingMemberBytes(newMemberId))) {
                return CompletableFuture.completedFuture(joinError("", Errors.GROUP_MAX_SIZE_REACHED));
            }
            group.pendingMembers.add(newMemberId);
            group.pendingExpiry.put(newMemberId, coordinator.executor.schedule(
                () -> coordinator.expirePending(group, newMemberId), request.sessionTimeoutMs(), TimeUnit.MILLISECONDS));
            return CompletableFuture.completedFuture(joinError(newMemberId, Errors.MEMBER_ID_REQUIRED));
        }
        ClassicMember member = new ClassicMember(newMemberId, instanceId, clientId, clientHost,
            rebalanceTimeout(request), request.sessionTimeoutMs(), protocols);
        long bytes = member.estimatedBytes();
        if (!admit(group, bytes)) {
            return CompletableFuture.completedFuture(joinError("", Errors.GROUP_MAX_SIZE_REACHED));
        }
        member.heldBytes = bytes;
        return addMemberAndRebalance(group, member, request.protocolType());
    }

    /**
     * Charges a joining member (or pending member) to the budget, with the group itself when it is
     * new, and then keeps a new group. False, with nothing changed, when the budget has no room.
     */
    private boolean admit(ClassicGroup group, long bytes) {
        boolean isNew = coordinator.groups.get(group.groupId) != group;
        if (!coordinator.memory.tryCharge(group.held, bytes + (isNew ? GroupMemory.groupBytes(group.groupId) : 0))) {
            return false;
        }
        if (isNew) {
            coordinator.groups.put(group.groupId, group);
        }
        return true;
    }

    private static int rebalanceTimeout(JoinGroupRequestData request) {
        return request.rebalanceTimeoutMs() > 0 ? request.rebalanceTimeoutMs() : request.sessionTimeoutMs();
    }

    private CompletableFuture<JoinGroupResponseData> addMemberAndRebalance(ClassicGroup group, ClassicMember member,
                                                                          String protocolType) {
        CompletableFuture<JoinGroupResponseData> future = new CompletableFuture<>();
        member.joinFuture = future;
        group.members.put(member.memberId, member);
        if (member.groupInstanceId != null) {
            group.staticMembers.put(member.groupInstanceId, member.memberId);
        }
        group.protocolType = protocolType;
        coordinator.scheduleSessionExpiry(group, member);
        if (group.state == State.PREPARING_REBALANCE) {
            coordinator.maybeCompleteJoin(group);
        } else {
            coordinator.prepareRebalance(group, "member " + member.memberId + " joined");
        }
        return future;
    }

    private CompletableFuture<JoinGroupResponseData> replaceStaticMember(ClassicGroup group,
                                                                         JoinGroupRequestData request,
                                                                         List<ClassicMember.Protocol> protocols,
                                                                         String newMemberId, String clientId,
                                                                         String clientHost, short version) {
        ClassicMember old = group.members.get(group.staticMembers.get(request.groupInstanceId()));
        ClassicMember member = new ClassicMember(newMemberId, request.groupInstanceId(), clientId, clientHost,
            rebalanceTimeout(request), request.sessionTimeoutMs(), protocols);
        member.assignment = old.assignment;
        long bytes = member.estimatedBytes();
        if (!coordinator.memory.tryCharge(group.held, bytes - old.heldBytes)) {
            return CompletableFuture.completedFuture(joinError("", Errors.GROUP_MAX_SIZE_REACHED));
        }
        member.heldBytes = bytes;
        old.heldBytes = 0;
        group.members.remove(old.memberId);
        GroupCoordinator.cancel(old);
        if (old.joinFuture != null) {
            old.joinFuture.complete(joinError(old.memberId, Errors.FENCED_INSTANCE_ID));
        }
        if (old.syncFuture != null) {
            old.syncFuture.complete(new SyncGroupResponseData().setErrorCode(Errors.FENCED_INSTANCE_ID.code()));
        }
        if (old.memberId.equals(group.leaderId)) {
            group.leaderId = newMemberId;
        }
        group.members.put(newMemberId, member);
        group.staticMembers.put(member.groupInstanceId, newMemberId);
        if (group.state == State.STABLE && group.selectProtocol().equals(group.protocolName)) {
            // As in Kafka: a static member that comes back without changing the group's protocol keeps its
            // assignment and causes no rebalance. A v9+ leader gets the members but is told to skip assigning.
            coordinator.scheduleSessionExpiry(group, member);
            boolean leader = newMemberId.equals(group.leaderId);
            return CompletableFuture.completedFuture(joinResponse(group, member, leader && version >= 9)
                .setSkipAssignment(leader && version >= 9));
        }
        group.members.remove(newMemberId);
        return addMemberAndRebalance(group, member, request.protocolType());
    }

    private CompletableFuture<JoinGroupResponseData> joinKnownMember(ClassicGroup group, JoinGroupRequestData request,
                                                                     List<ClassicMember.Protocol> protocols,
                                                                     String clientId, String clientHost) {
        String memberId = request.memberId();
        if (group.pendingMembers.contains(memberId)) {
            ClassicMember member = new ClassicMember(memberId, request.groupInstanceId(), clientId, clientHost,
                rebalanceTimeout(request), request.sessionTimeoutMs(), protocols);
            long bytes = member.estimatedBytes();
            if (!coordinator.memory.tryCharge(group.held, bytes)) {
                return CompletableFuture.completedFuture(joinError(memberId, Errors.GROUP_MAX_SIZE_REACHED));
            }
            member.heldBytes = bytes;
            coordinator.dropPending(group, memberId);
            return addMemberAndRebalance(group, member, request.protocolType());
        }
        Errors invalid = GroupCoordinator.validateMember(group, memberId, request.groupInstanceId());
        if (invalid != Errors.NONE) {
            return CompletableFuture.completedFuture(joinError(memberId, invalid));
        }
        ClassicMember member = group.members.get(memberId);
        long bytes = member.estimatedBytes(protocols, member.assignment);
        if (!coordinator.memory.tryCharge(group.held, bytes - member.heldBytes)) {
            return CompletableFuture.completedFuture(joinError(memberId, Errors.GROUP_MAX_SIZE_REACHED));
        }
        member.heldBytes = bytes;
        boolean sameProtocols = member.sameProtocols(protocols);
        member.protocols = protocols;
        member.rebalanceTimeoutMs = rebalanceTimeout(request);
        member.sessionTimeoutMs = request.sessionTimeoutMs();
        coordinator.scheduleSessionExpiry(group, member);
        switch (group.state) {
            case PREPARING_REBALANCE -> {
                CompletableFuture<JoinGroupResponseData> future = new CompletableFuture<>();
                if (member.joinFuture != null) {
                    member.joinFuture.complete(joinError(memberId, Errors.REBALANCE_IN_PROGRESS));
                }
                member.joinFuture = future;
                coordinator.maybeCompleteJoin(group);
                return future;
            }
            case COMPLETING_REBALANCE, STABLE -> {
                if (sameProtocols && (group.state == State.COMPLETING_REBALANCE || !memberId.equals(group.leaderId))) {
                    // A retried join with unchanged metadata: answer with the current generation, no rebalance.
                    return CompletableFuture.completedFuture(joinResponse(group, member, memberId.equals(group.leaderId)));
                }
                CompletableFuture<JoinGroupResponseData> future = new CompletableFuture<>();
                member.joinFuture = future;
                coordinator.prepareRebalance(group, "member " + memberId + " rejoined with new metadata");
                return future;
            }
            default -> {
                return CompletableFuture.completedFuture(joinError(memberId, Errors.UNKNOWN_MEMBER_ID));
            }
        }
    }
}
