package dev.weir.groups;

import static dev.weir.groups.ConsumerGroupMember.LEAVE_EPOCH;
import static dev.weir.groups.ConsumerGroupMember.STATIC_LEAVE_EPOCH;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData.DescribedGroup;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer group protocol (KIP-848): ConsumerGroupHeartbeat and ConsumerGroupDescribe. Each
 * heartbeat (1) creates or updates the member, bumping the group epoch when membership, a
 * subscription or the subscribed topics changed; (2) recomputes the target assignment with the
 * server-side assignor if the group epoch is ahead of it; (3) moves the member one step towards its
 * target ({@link ConsumerGroupMember#reconcile}). Members are removed when their session times out
 * or when they keep partitions they must revoke past their rebalance timeout.
 *
 * <p>Membership lives only in memory: after a restart a member heartbeating with its old epoch gets
 * UNKNOWN_MEMBER_ID (where Kafka, whose groups survive restarts, would say GROUP_ID_NOT_FOUND) and
 * rejoins. Thread-safety: all state belongs to the group coordinator's thread; the public methods
 * hand their work to it through {@code GroupCoordinator.onCoordinator}, and timers run on it too.
 */
public final class ConsumerGroupCoordinator {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerGroupCoordinator.class);
    /** How stale a group's resolution of its regex subscriptions may get before a heartbeat redoes it. */
    static final long REGEX_REFRESH_MS = 1000;

    private final GroupCoordinator groups;
    private final TopicLookup topics;

    public ConsumerGroupCoordinator(GroupCoordinator groups, TopicLookup topics) {
        this.groups = groups;
        this.topics = topics;
    }

    /** How a heartbeat found its member: an existing one, a new one, or a static member's new incarnation. */
    private record Resolution(ConsumerGroupMember member, boolean created, ConsumerGroupMember replaced) {
    }

    public CompletableFuture<ConsumerGroupHeartbeatResponseData> heartbeat(ConsumerGroupHeartbeatRequestData request,
                                                                           String clientId, String clientHost) {
        return groups.onCoordinator(() ->
            CompletableFuture.completedFuture(doHeartbeat(request, clientId, clientHost)));
    }

    public CompletableFuture<List<DescribedGroup>> describe(List<String> groupIds,
                                                            boolean includeAuthorizedOperations) {
        return groups.onCoordinator(() -> {
            List<DescribedGroup> described = new ArrayList<>();
            for (String groupId : groupIds) {
                ConsumerGroupState group = groups.consumerGroups().get(groupId);
                described.add(group != null ? group.describe(topics, includeAuthorizedOperations)
                    : new DescribedGroup().setGroupId(groupId).setErrorCode(Errors.GROUP_ID_NOT_FOUND.code())
                        .setErrorMessage(notFoundMessage(groupId)));
            }
            return CompletableFuture.completedFuture(described);
        });
    }

    private String notFoundMessage(String groupId) {
        return groups.groups.containsKey(groupId) ? "Group " + groupId + " is not a consumer group."
            : "Group " + groupId + " not found.";
    }

    private ConsumerGroupHeartbeatResponseData doHeartbeat(ConsumerGroupHeartbeatRequestData request, String clientId,
                                                           String clientHost) {
        try {
            ConsumerHeartbeatChecks.validate(request);
            if (request.memberEpoch() == LEAVE_EPOCH || request.memberEpoch() == STATIC_LEAVE_EPOCH) {
                return leave(request);
            }
            return heartbeatMember(request, clientId, clientHost);
        } catch (ApiException e) {
            return new ConsumerGroupHeartbeatResponseData().setErrorCode(Errors.forException(e).code())
                .setErrorMessage(e.getMessage());
        }
    }

    private ConsumerGroupHeartbeatResponseData heartbeatMember(ConsumerGroupHeartbeatRequestData request,
                                                               String clientId, String clientHost) {
        ConsumerGroupState group = groupFor(request.groupId(), request.memberEpoch() == 0);
        String memberId = request.memberId().isEmpty() ? Uuid.randomUuid().toString() : request.memberId();
        Resolution resolution = resolveMember(group, request, memberId);
        long memberBytes = charge(group, resolution, request, clientId, clientHost);
        // Every check is done: from here on the heartbeat changes the group and cannot fail.
        register(group);
        ConsumerGroupMember member = resolution.member();
        member.heldBytes = memberBytes;
        if (resolution.replaced() != null) {
            LOG.info("Static member {} of group {} rejoins as {}", member.instanceId, group.groupId, member.memberId);
            resolution.replaced().heldBytes = 0;
            group.replaceMember(resolution.replaced(), member);
        } else if (resolution.created()) {
            LOG.info("Member {} joins consumer group {}", member.memberId, group.groupId);
            group.addMember(member);
        }
        boolean subscriptionChanged = update(group, member, request, clientId, clientHost);
        refreshSubscriptions(group, resolution.created() || subscriptionChanged);
        maybeComputeTarget(group);
        Map<Uuid, Set<Integer>> assignedBefore = member.assigned;
        int epochBefore = member.memberEpoch;
        reconcile(group, member, request.topicPartitions(), subscriptionChanged);
        scheduleSessionTimeout(group, member);
        ConsumerGroupHeartbeatResponseData response = new ConsumerGroupHeartbeatResponseData()
            .setErrorCode(Errors.NONE.code()).setMemberId(member.memberId).setMemberEpoch(member.memberEpoch)
            .setHeartbeatIntervalMs(groups.settings.consumerHeartbeatIntervalMs());
        boolean fullRequest = request.rebalanceTimeoutMs() != -1 && request.topicPartitions() != null
            && (request.subscribedTopicNames() != null || request.subscribedTopicRegex() != null);
        // Kafka sends the assignment on (re)joins, full requests and changes of partitions; Weir also
        // sends it with every new epoch, so a response that moves the epoch always says what it means.
        if (request.memberEpoch() == 0 || fullRequest || epochBefore != member.memberEpoch
            || !assignedBefore.equals(member.assigned)) {
            response.setAssignment(Partitions.toHeartbeat(member.assigned));
        }
        return response;
    }

    /** The consumer group, or a new one (not yet registered) when joining and the id is free. */
    private ConsumerGroupState groupFor(String groupId, boolean joining) {
        ConsumerGroupState group = groups.consumerGroups().get(groupId);
        if (group != null) {
            return group;
        }
        ClassicGroup classic = groups.groups.get(groupId);
        if (classic != null && (!joining || !isEmpty(classic))) {
            throw Errors.GROUP_ID_NOT_FOUND.exception("Group " + groupId + " is not a consumer group.");
        }
        if (!joining) {
            throw Errors.UNKNOWN_MEMBER_ID.exception("Group " + groupId + " has no members; rejoin with epoch 0.");
        }
        if (classic == null && groups.groups.size() + groups.consumerGroups().size() >= groups.settings.maxGroups()) {
            throw Errors.GROUP_MAX_SIZE_REACHED.exception("The coordinator holds its maximum of "
                + groups.settings.maxGroups() + " groups.");
        }
        return new ConsumerGroupState(groupId);
    }

    private static boolean isEmpty(ClassicGroup classic) {
        return (classic.state == ClassicGroup.State.EMPTY || classic.state == ClassicGroup.State.DEAD)
            && classic.members.isEmpty() && classic.pendingMembers.isEmpty();
    }

    /**
     * Charges what the member holds once the heartbeat is applied, and a new group's own share, to the
     * coordinator's budget; returns the member's bytes, or refuses the heartbeat when there is no room.
     */
    private long charge(ConsumerGroupState group, Resolution resolution, ConsumerGroupHeartbeatRequestData request,
                        String clientId, String clientHost) {
        ConsumerGroupMember member = resolution.member();
        long bytes = member.estimatedBytesAfter(request, clientId, clientHost);
        long before = resolution.replaced() != null ? resolution.replaced().heldBytes : member.heldBytes;
        boolean newGroup = groups.consumerGroups().get(group.groupId) != group;
        long charge = bytes - before + (newGroup ? GroupMemory.groupBytes(group.groupId) : 0);
        if (!groups.memory.tryCharge(group.held, charge)) {
            throw Errors.GROUP_MAX_SIZE_REACHED.exception("The members of all groups hold what"
                + " group.max.total.metadata.bytes allows; this member cannot join or grow until others leave.");
        }
        return bytes;
    }

    /** Puts a new group in the map, replacing an empty classic group of the same id, as Kafka converts it. */
    private void register(ConsumerGroupState group) {
        if (groups.consumerGroups().get(group.groupId) == group) {
            return;
        }
        ClassicGroup classic = groups.groups.get(group.groupId);
        if (classic != null) {
            groups.removeClassicGroup(classic);
            LOG.info("Empty classic group {} becomes a consumer group", group.groupId);
        }
        groups.consumerGroups().put(group.groupId, group);
    }

    private Resolution resolveMember(ConsumerGroupState group, ConsumerGroupHeartbeatRequestData request,
                                     String memberId) {
        boolean joining = request.memberEpoch() == 0;
        String instanceId = request.instanceId();
        ConsumerGroupMember byId = group.members.get(memberId);
        if (instanceId == null) {
            if (byId == null) {
                if (!joining) {
                    throw Errors.UNKNOWN_MEMBER_ID.exception("Member " + memberId + " is not a member of group "
                        + group.groupId + ".");
                }
                return new Resolution(newMember(group, memberId, null), true, null);
            }
            validateEpoch(byId, request);
            return new Resolution(byId, false, null);
        }
        ConsumerGroupMember existing = group.staticMember(instanceId);
        if (!joining) {
            if (existing == null) {
                throw Errors.UNKNOWN_MEMBER_ID.exception("Instance id " + instanceId + " is unknown.");
            }
            throwIfFenced(existing, memberId, instanceId);
            validateEpoch(existing, request);
            return new Resolution(existing, false, null);
        }
        if (existing != null && existing.memberId.equals(memberId)) {
            return new Resolution(existing, false, null);
        }
        if (byId != null) {
            throw Errors.INVALID_REQUEST.exception("Member " + memberId + " is already in group " + group.groupId
                + " with another instance id.");
        }
        if (existing == null) {
            return new Resolution(newMember(group, memberId, instanceId), true, null);
        }
        if (existing.memberEpoch != STATIC_LEAVE_EPOCH) {
            throw Errors.UNRELEASED_INSTANCE_ID.exception("Static member " + memberId + " with instance id "
                + instanceId + " cannot join the group because the instance id is owned by " + existing.memberId
                + " member.");
        }
        return new Resolution(existing.replacing(memberId), false, existing);
    }

    private ConsumerGroupMember newMember(ConsumerGroupState group, String memberId, String instanceId) {
        int maxSize = groups.settings.maxGroupSize();
        if (group.members.size() >= maxSize) {
            throw Errors.GROUP_MAX_SIZE_REACHED.exception("The consumer group has reached its maximum capacity of "
                + maxSize + " members.");
        }
        return new ConsumerGroupMember(memberId, instanceId);
    }

    private static void throwIfFenced(ConsumerGroupMember existing, String memberId, String instanceId) {
        if (!existing.memberId.equals(memberId)) {
            throw Errors.FENCED_INSTANCE_ID.exception("Static member " + memberId + " with instance id "
                + instanceId + " was fenced by member " + existing.memberId + ".");
        }
    }

    /** Epoch 0 rejoins; the current epoch is fine; the previous one only with a subset of the partitions. */
    private static void validateEpoch(ConsumerGroupMember member, ConsumerGroupHeartbeatRequestData request) {
        int epoch = request.memberEpoch();
        if (epoch == 0 || epoch == member.memberEpoch) {
            return;
        }
        if (epoch > member.memberEpoch) {
            throw Errors.FENCED_MEMBER_EPOCH.exception("The consumer group member has a greater member epoch ("
                + epoch + ") than the one known by the group coordinator (" + member.memberEpoch
                + "). The member must abandon all its partitions and rejoin.");
        }
        if (epoch != member.previousMemberEpoch || !Partitions.isSubset(request.topicPartitions(), member.assigned)) {
            throw Errors.FENCED_MEMBER_EPOCH.exception("The consumer group member has a smaller member epoch ("
                + epoch + ") than the one known by the group coordinator (" + member.memberEpoch
                + "). The member must abandon all its partitions and rejoin.");
        }
    }

    /** Applies the heartbeat's fields (null or -1: unchanged); returns whether the subscription changed. */
    private static boolean update(ConsumerGroupState group, ConsumerGroupMember member,
                                  ConsumerGroupHeartbeatRequestData request, String clientId, String clientHost) {
        if (request.rackId() != null) {
            member.rackId = request.rackId();
        }
        if (request.rebalanceTimeoutMs() != -1) {
            member.rebalanceTimeoutMs = request.rebalanceTimeoutMs();
        }
        if (request.serverAssignor() != null) {
            member.serverAssignor = request.serverAssignor();
        }
        member.clientId = clientId == null ? "" : clientId;
        member.clientHost = clientHost == null ? "" : clientHost;
        Set<String> names = request.subscribedTopicNames() == null ? member.subscribedTopicNames
            : Collections.unmodifiableSet(new TreeSet<>(request.subscribedTopicNames()));
        String regex = request.subscribedTopicRegex() == null ? member.subscribedTopicRegex
            : request.subscribedTopicRegex().isEmpty() ? null : request.subscribedTopicRegex();
        if (names.equals(member.subscribedTopicNames) && Objects.equals(regex, member.subscribedTopicRegex)) {
            return false;
        }
        LOG.debug("Member {} of group {} subscribes to {} (regex {})", member.memberId, group.groupId, names, regex);
        group.subscribe(member, names, regex);
        return true;
    }

    /** Resolves the subscriptions again; bumps the group epoch if asked to or if what they resolve to changed. */
    private void refreshSubscriptions(ConsumerGroupState group, boolean bump) {
        ConsumerGroupState.Subscriptions resolved = resolveSubscriptions(group);
        if (bump || !resolved.equals(group.subscriptions)) {
            group.subscriptions = resolved;
            group.groupEpoch++;
            LOG.debug("Group {} moves to epoch {}", group.groupId, group.groupEpoch);
        }
    }

    private ConsumerGroupState.Subscriptions resolveSubscriptions(ConsumerGroupState group) {
        Map<String, Set<String>> regexMatches = group.subscriptions.regexMatches();
        Set<String> regexes = group.subscribedRegexes();
        long now = groups.clock.millis();
        if (regexes.isEmpty()) {
            regexMatches = Map.of();
        } else if (!regexes.equals(regexMatches.keySet()) || now - group.regexResolvedAtMs >= REGEX_REFRESH_MS) {
            regexMatches = resolveRegexes(regexes);
            group.regexResolvedAtMs = now;
        }
        Set<String> names = new TreeSet<>(group.subscribedTopicNames());
        regexMatches.values().forEach(names::addAll);
        Map<String, ServerAssignor.Topic> existing = new HashMap<>();
        for (String name : names) {
            Uuid id = topics.idOf(name);
            int partitions = id == null || Uuid.ZERO_UUID.equals(id) ? 0 : topics.partitionCount(name);
            if (partitions > 0) {
                existing.put(name, new ServerAssignor.Topic(id, name, partitions));
            }
        }
        return new ConsumerGroupState.Subscriptions(Map.copyOf(existing), regexMatches);
    }

    private Map<String, Set<String>> resolveRegexes(Set<String> regexes) {
        Map<String, Pattern> patterns = new HashMap<>();
        Map<String, Set<String>> matches = new HashMap<>();
        for (String regex : regexes) {
            patterns.put(regex, Pattern.compile(regex));
            matches.put(regex, new TreeSet<>());
        }
        for (String topic : topics.topicNames()) {
            patterns.forEach((regex, pattern) -> {
                if (pattern.matcher(topic).matches()) {
                    matches.get(regex).add(topic);
                }
            });
        }
        Map<String, Set<String>> frozen = new HashMap<>();
        matches.forEach((regex, names) -> frozen.put(regex, Set.copyOf(names)));
        return Map.copyOf(frozen);
    }

    private void maybeComputeTarget(ConsumerGroupState group) {
        if (group.groupEpoch <= group.assignmentEpoch) {
            return;
        }
        ServerAssignor assignor = Objects.requireNonNullElse(ServerAssignor.named(group.preferredAssignor()),
            UniformAssignor.INSTANCE);
        List<ServerAssignor.MemberSpec> members = new ArrayList<>();
        for (ConsumerGroupMember member : group.members.values()) {
            members.add(new ServerAssignor.MemberSpec(member.memberId, member.instanceId,
                group.subscribedTopicIds(member), group.targetAssignment.getOrDefault(member.memberId, Map.of())));
        }
        List<ServerAssignor.Topic> subscribed = new ArrayList<>(group.subscriptions.topics().values());
        subscribed.sort(Comparator.comparing(ServerAssignor.Topic::name));
        group.targetAssignment = assignor.assign(members, subscribed);
        group.assignmentEpoch = group.groupEpoch;
        chargePartitions(group);
        LOG.info("Group {} computed its target assignment for epoch {} with the {} assignor ({} members)",
            group.groupId, group.assignmentEpoch, assignor.name(), members.size());
    }

    /**
     * Charges the partition state that follows the new target (target, assigned partitions and owners):
     * it cannot be refused without failing members already in, so it may take the budget past its limit.
     */
    private void chargePartitions(ConsumerGroupState group) {
        long partitions = 0;
        for (Map<Uuid, Set<Integer>> target : group.targetAssignment.values()) {
            for (Set<Integer> topicPartitions : target.values()) {
                partitions += topicPartitions.size();
            }
        }
        long bytes = partitions * GroupMemory.PARTITION_BYTES;
        groups.memory.charge(group.held, bytes - group.partitionBytes);
        group.partitionBytes = bytes;
    }

    private void reconcile(ConsumerGroupState group, ConsumerGroupMember member,
                           List<ConsumerGroupHeartbeatRequestData.TopicPartitions> owned, boolean subscriptionChanged) {
        if (!subscriptionChanged && member.isReconciledTo(group.assignmentEpoch)) {
            return;
        }
        group.release(member);
        boolean changed = member.reconcile(group.assignmentEpoch,
            group.targetAssignment.getOrDefault(member.memberId, Map.of()), group.subscribedTopicIds(member), owned,
            (topic, partition) -> group.ownedByOther(member.memberId, topic, partition), subscriptionChanged);
        group.claim(member);
        if (!changed) {
            return;
        }
        LOG.debug("Member {} of group {} is {} at epoch {}: assigned {}, revoking {}", member.memberId, group.groupId,
            member.state, member.memberEpoch, member.assigned, member.pendingRevocation);
        if (member.state == ConsumerGroupMember.State.UNREVOKED_PARTITIONS) {
            scheduleRebalanceTimeout(group, member);
        } else {
            member.cancelRebalanceTimer();
        }
    }

    private ConsumerGroupHeartbeatResponseData leave(ConsumerGroupHeartbeatRequestData request) {
        ConsumerGroupState group = groups.consumerGroups().get(request.groupId());
        if (group == null) {
            throw Errors.GROUP_ID_NOT_FOUND.exception(notFoundMessage(request.groupId()));
        }
        String instanceId = request.instanceId();
        ConsumerGroupMember member = instanceId == null ? group.members.get(request.memberId())
            : group.staticMember(instanceId);
        if (member == null) {
            throw Errors.UNKNOWN_MEMBER_ID.exception(instanceId == null
                ? "Member " + request.memberId() + " is not a member of group " + group.groupId + "."
                : "Instance id " + instanceId + " is unknown.");
        }
        if (instanceId != null) {
            throwIfFenced(member, request.memberId(), instanceId);
        }
        if (request.memberEpoch() == STATIC_LEAVE_EPOCH) {
            LOG.info("Static member {} (instance {}) of group {} leaves for now", member.memberId, instanceId,
                group.groupId);
            group.release(member);
            member.leaveTemporarily();
            group.claim(member);
            member.cancelRebalanceTimer();
            return new ConsumerGroupHeartbeatResponseData().setMemberId(member.memberId)
                .setMemberEpoch(STATIC_LEAVE_EPOCH);
        }
        fence(group, member, "it left the group");
        return new ConsumerGroupHeartbeatResponseData().setMemberId(request.memberId())
            .setMemberEpoch(request.memberEpoch());
    }

    /** Removes the member, frees its partitions and bumps the group epoch so the others are reassigned. */
    private void fence(ConsumerGroupState group, ConsumerGroupMember member, String reason) {
        LOG.info("Member {} is removed from consumer group {}: {}", member.memberId, group.groupId, reason);
        group.removeMember(member);
        groups.memory.release(group.held, member.heldBytes);
        member.heldBytes = 0;
        group.subscriptions = resolveSubscriptions(group);
        group.groupEpoch++;
    }

    private void scheduleSessionTimeout(ConsumerGroupState group, ConsumerGroupMember member) {
        member.cancelSessionTimer();
        int timeoutMs = groups.settings.consumerSessionTimeoutMs();
        member.sessionTimer = groups.executor.schedule(() -> {
            if (isCurrent(group, member)) {
                fence(group, member, "its session timed out after " + timeoutMs + " ms");
            }
        }, timeoutMs, TimeUnit.MILLISECONDS);
    }

    private void scheduleRebalanceTimeout(ConsumerGroupState group, ConsumerGroupMember member) {
        member.cancelRebalanceTimer();
        int epoch = member.memberEpoch;
        int timeoutMs = Math.max(member.rebalanceTimeoutMs, 0);
        member.rebalanceTimer = groups.executor.schedule(() -> {
            if (isCurrent(group, member) && member.memberEpoch == epoch
                && member.state == ConsumerGroupMember.State.UNREVOKED_PARTITIONS) {
                fence(group, member, "it did not revoke its partitions within its rebalance timeout of "
                    + timeoutMs + " ms");
            }
        }, timeoutMs, TimeUnit.MILLISECONDS);
    }

    private boolean isCurrent(ConsumerGroupState group, ConsumerGroupMember member) {
        return groups.consumerGroups().get(group.groupId) == group && group.members.get(member.memberId) == member;
    }
}
