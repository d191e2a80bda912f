package dev.weir.groups;

import dev.weir.groups.ClassicGroup.State;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.JoinGroupResponseData.JoinGroupResponseMember;
import org.apache.kafka.common.message.LeaveGroupRequestData.MemberIdentity;
import org.apache.kafka.common.message.LeaveGroupResponseData.MemberResponse;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The classic group protocol: JoinGroup, SyncGroup, Heartbeat and LeaveGroup, with session and
 * rebalance timeouts, static membership and Kafka's error codes. Group membership lives only in
 * memory; after a restart members get UNKNOWN_MEMBER_ID and rejoin. All state is confined to one
 * thread, the {@code executor}: public methods hand their work to it and return futures.
 */
public final class GroupCoordinator {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCoordinator.class);

    final ScheduledExecutorService executor;
    final Clock clock;
    final GroupSettings settings;
    final Map<String, ClassicGroup> groups = new HashMap<>();
    /** The budget of what members of all groups, of both protocols, may hold. */
    final GroupMemory memory;
    private final ClassicJoin joins = new ClassicJoin(this);
    private final ClassicSyncAndHeartbeat syncAndHeartbeat = new ClassicSyncAndHeartbeat(this);
    /** Groups of the consumer protocol (KIP-848); a group id is in at most one of the two maps. */
    private final Map<String, ConsumerGroupState> consumerGroups = new HashMap<>();

    public GroupCoordinator(ScheduledExecutorService executor, Clock clock, GroupSettings settings) {
        this.executor = executor;
        this.clock = clock;
        this.settings = settings;
        this.memory = new GroupMemory(settings.maxTotalMetadataBytes(), clock);
    }

    Map<String, ConsumerGroupState> consumerGroups() {
        return consumerGroups;
    }

    /** Runs {@code work} on the coordinator thread. */
    <T> CompletableFuture<T> onCoordinator(Supplier<CompletableFuture<T>> work) {
        return CompletableFuture.supplyAsync(work, executor).thenCompose(future -> future);
    }

    static JoinGroupResponseData joinError(String memberId, Errors error) {
        return new JoinGroupResponseData().setMemberId(memberId).setErrorCode(error.code()).setGenerationId(-1)
            .setProtocolName(null).setLeader("");
    }

    public CompletableFuture<JoinGroupResponseData> join(JoinGroupRequestData request, String clientId,
                                                         String clientHost, short version) {
        return onCoordinator(() -> joins.join(request, clientId, clientHost, version));
    }

    /** UNKNOWN_MEMBER_ID or FENCED_INSTANCE_ID as Kafka checks them, or NONE. */
    static Errors validateMember(ClassicGroup group, String memberId, String groupInstanceId) {
        if (groupInstanceId != null) {
            String existing = group.staticMembers.get(groupInstanceId);
            if (existing == null) {
                return Errors.UNKNOWN_MEMBER_ID;
            }
            if (!existing.equals(memberId)) {
                return Errors.FENCED_INSTANCE_ID;
            }
        }
        return group.members.containsKey(memberId) ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID;
    }

    void prepareRebalance(ClassicGroup group, String reason) {
        if (group.state == State.COMPLETING_REBALANCE) {
            for (ClassicMember member : group.members.values()) {
                member.assignment = new byte[0];
                releaseShrunk(group, member);
                if (member.syncFuture != null) {
                    member.syncFuture.complete(new SyncGroupResponseData().setErrorCode(Errors.REBALANCE_IN_PROGRESS.code()));
                    member.syncFuture = null;
                }
            }
        }
        long now = clock.millis();
        boolean wasEmpty = group.state == State.EMPTY;
        group.transition(State.PREPARING_REBALANCE, now);
        int timeoutMs = Math.max(group.maxRebalanceTimeoutMs(), 1);
        int delayMs = wasEmpty ? Math.min(settings.initialRebalanceDelayMs(), timeoutMs) : timeoutMs;
        group.initialDelayUntilMs = wasEmpty ? now + delayMs : 0;
        LOG.info("Group {} is preparing to rebalance (generation {}): {}", group.groupId, group.generationId, reason);
        if (group.rebalanceDeadline != null) {
            group.rebalanceDeadline.cancel(false);
        }
        group.rebalanceDeadline = executor.schedule(() -> completeJoin(group), delayMs, TimeUnit.MILLISECONDS);
        maybeCompleteJoin(group);
    }

    void maybeCompleteJoin(ClassicGroup group) {
        if (group.state == State.PREPARING_REBALANCE && group.allMembersJoined()
            && clock.millis() >= group.initialDelayUntilMs) {
            completeJoin(group);
        }
    }

    /** Ends the join phase: members that did not rejoin are removed; the rest get the new generation. */
    private void completeJoin(ClassicGroup group) {
        if (group.state != State.PREPARING_REBALANCE) {
            return;
        }
        if (group.rebalanceDeadline != null) {
            group.rebalanceDeadline.cancel(false);
            group.rebalanceDeadline = null;
        }
        if (!group.allMembersJoined() && clock.millis() < group.initialDelayUntilMs) {
            return;
        }
        for (ClassicMember member : new ArrayList<>(group.members.values())) {
            if (!member.isAwaitingJoin()) {
                LOG.info("Group {} removes member {}, which did not rejoin within the rebalance timeout",
                    group.groupId, member.memberId);
                removeMember(group, member);
            }
        }
        new ArrayList<>(group.pendingMembers).forEach(pending -> dropPending(group, pending));
        group.generationId++;
        if (group.members.isEmpty()) {
            group.protocolName = null;
            group.leaderId = null;
            group.transition(State.EMPTY, clock.millis());
            return;
        }
        group.protocolName = group.selectProtocol();
        if (group.leaderId == null || !group.members.containsKey(group.leaderId)) {
            group.leaderId = group.members.keySet().iterator().next();
        }
        group.transition(State.COMPLETING_REBALANCE, clock.millis());
        LOG.info("Group {} completed the join phase: generation {}, {} members, protocol {}", group.groupId,
            group.generationId, group.members.size(), group.protocolName);
        for (ClassicMember member : group.members.values()) {
            CompletableFuture<JoinGroupResponseData> future = member.joinFuture;
            member.joinFuture = null;
            future.complete(joinResponse(group, member, member.memberId.equals(group.leaderId)));
            scheduleSessionExpiry(group, member);
        }
    }

    static JoinGroupResponseData joinResponse(ClassicGroup group, ClassicMember member, boolean withMembers) {
        List<JoinGroupResponseMember> members = new ArrayList<>();
        if (withMembers) {
            for (ClassicMember each : group.members.values()) {
                members.add(new JoinGroupResponseMember().setMemberId(each.memberId)
                    .setGroupInstanceId(each.groupInstanceId).setMetadata(each.metadata(group.protocolName)));
            }
        }
        return new JoinGroupResponseData().setErrorCode(Errors.NONE.code()).setGenerationId(group.generationId)
            .setProtocolType(group.protocolType).setProtocolName(group.protocolName).setLeader(group.leaderId)
            .setMemberId(member.memberId).setMembers(members);
    }

    public CompletableFuture<SyncGroupResponseData> sync(SyncGroupRequestData request) {
        return onCoordinator(() -> syncAndHeartbeat.sync(request));
    }

    public CompletableFuture<HeartbeatResponseData> heartbeat(HeartbeatRequestData request) {
        return onCoordinator(() -> CompletableFuture.completedFuture(syncAndHeartbeat.heartbeat(request)));
    }

    /** LeaveGroup: the top-level error, and one response per member (v3+). */
    public record LeaveResult(Errors error, List<MemberResponse> members) {
    }

    public CompletableFuture<LeaveResult> leave(String groupId, List<MemberIdentity> leaving) {
        return onCoordinator(() -> CompletableFuture.completedFuture(doLeave(groupId, leaving)));
    }

    private LeaveResult doLeave(String groupId, List<MemberIdentity> leaving) {
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return new LeaveResult(Errors.UNKNOWN_MEMBER_ID, List.of());
        }
        List<MemberResponse> responses = new ArrayList<>();
        boolean removed = false;
        for (MemberIdentity identity : leaving) {
            String memberId = identity.memberId();
            if (identity.groupInstanceId() != null && memberId.isEmpty()) {
                memberId = group.staticMembers.getOrDefault(identity.groupInstanceId(), "");
            }
            Errors error = group.pendingMembers.contains(memberId) ? Errors.NONE
                : validateMember(group, memberId, identity.groupInstanceId());
            responses.add(new MemberResponse().setMemberId(identity.memberId())
                .setGroupInstanceId(identity.groupInstanceId()).setErrorCode(error.code()));
            if (error != Errors.NONE) {
                continue;
            }
            if (group.pendingMembers.contains(memberId)) {
                dropPending(group, memberId);
            } else {
                LOG.info("Member {} leaves group {}", memberId, groupId);
                removeMember(group, group.members.get(memberId));
            }
            removed = true;
        }
        if (removed) {
            membershipChanged(group, "members left");
        }
        Errors top = leaving.size() == 1 && responses.get(0).errorCode() != 0
            ? Errors.forCode(responses.get(0).errorCode()) : Errors.NONE;
        return new LeaveResult(top, responses);
    }

    private void membershipChanged(ClassicGroup group, String reason) {
        switch (group.state) {
            case STABLE, COMPLETING_REBALANCE -> {
                if (group.members.isEmpty()) {
                    group.generationId++;
                    group.protocolName = null;
                    group.leaderId = null;
                    group.transition(State.EMPTY, clock.millis());
                } else {
                    prepareRebalance(group, reason);
                }
            }
            case PREPARING_REBALANCE -> {
                if (group.members.isEmpty()) {
                    completeJoin(group);
                } else {
                    maybeCompleteJoin(group);
                }
            }
            default -> {
                // An empty or dead group has no one to tell.
            }
        }
    }

    private void removeMember(ClassicGroup group, ClassicMember member) {
        group.members.remove(member.memberId);
        memory.release(group.held, member.heldBytes);
        member.heldBytes = 0;
        if (member.groupInstanceId != null) {
            group.staticMembers.remove(member.groupInstanceId, member.memberId);
        }
        cancel(member);
        if (member.joinFuture != null) {
            member.joinFuture.complete(joinError(member.memberId, Errors.UNKNOWN_MEMBER_ID));
            member.joinFuture = null;
        }
        if (member.syncFuture != null) {
            member.syncFuture.complete(new SyncGroupResponseData().setErrorCode(Errors.UNKNOWN_MEMBER_ID.code()));
            member.syncFuture = null;
        }
        if (member.memberId.equals(group.leaderId)) {
            group.leaderId = null;
        }
    }

    void scheduleSessionExpiry(ClassicGroup group, ClassicMember member) {
        cancel(member);
        member.sessionExpiry = executor.schedule(() -> expireMember(group, member), member.sessionTimeoutMs,
            TimeUnit.MILLISECONDS);
    }

    private void expireMember(ClassicGroup group, ClassicMember member) {
        if (group.members.get(member.memberId) != member) {
            return;
        }
        if (member.isAwaitingJoin() && group.state == State.PREPARING_REBALANCE) {
            // A member waiting in JoinGroup cannot heartbeat; the rebalance timeout governs it.
            return;
        }
        LOG.info("Member {} of group {} missed its session timeout of {} ms and is removed", member.memberId,
            group.groupId, member.sessionTimeoutMs);
        removeMember(group, member);
        membershipChanged(group, "member " + member.memberId + " expired");
    }

    void expirePending(ClassicGroup group, String memberId) {
        if (group.pendingMembers.contains(memberId)) {
            dropPending(group, memberId);
            maybeCompleteJoin(group);
        }
    }

    static void cancel(ClassicMember member) {
        if (member.sessionExpiry != null) {
            member.sessionExpiry.cancel(false);
            member.sessionExpiry = null;
        }
    }

    /** Forgets a pending member (joined, left, expired or dropped with its group) and what it held. */
    void dropPending(ClassicGroup group, String memberId) {
        if (group.pendingMembers.remove(memberId)) {
            memory.release(group.held, ClassicGroup.pendingMemberBytes(memberId));
        }
        var expiry = group.pendingExpiry.remove(memberId);
        if (expiry != null) {
            expiry.cancel(false);
        }
    }

    /** Releases what a member no longer holds once its assignment or protocols shrank. */
    void releaseShrunk(ClassicGroup group, ClassicMember member) {
        long bytes = member.estimatedBytes();
        memory.release(group.held, member.heldBytes - bytes);
        member.heldBytes = bytes;
    }

    /** Forgets an empty classic group (deleted, expired, or taken over by the consumer protocol). */
    void removeClassicGroup(ClassicGroup group) {
        group.state = State.DEAD;
        groups.remove(group.groupId, group);
        new ArrayList<>(group.pendingMembers).forEach(pending -> dropPending(group, pending));
        memory.releaseAll(group.held);
    }

    /** Forgets an empty consumer-protocol group (deleted, expired, or taken over by the classic protocol). */
    void removeConsumerGroup(ConsumerGroupState group) {
        consumerGroups.remove(group.groupId, group);
        memory.releaseAll(group.held);
    }
}
