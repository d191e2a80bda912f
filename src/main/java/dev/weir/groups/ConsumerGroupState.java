package dev.weir.groups;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData.DescribedGroup;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData.Member;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Utils;

/**
 * A group of the consumer protocol (KIP-848): its members, the group epoch (bumped whenever
 * membership, subscriptions or the subscribed topics change), the target assignment and the epoch
 * it was computed at, and who currently owns each partition. The group's state follows from these,
 * as in Kafka: Empty (no members), Assigning (the target is older than the group epoch),
 * Reconciling (some member has not reached the target) or Stable. Confined to the coordinator thread.
 */
final class ConsumerGroupState {
    /** Kafka's names for the group states; ListGroups and ConsumerGroupDescribe both use these. */
    static final String EMPTY = "Empty";
    static final String ASSIGNING = "Assigning";
    static final String RECONCILING = "Reconciling";
    static final String STABLE = "Stable";

    /** Every operation on a group, reported as authorised: Weir has no authorisation. */
    private static final int ALL_GROUP_OPERATIONS = Utils.to32BitField(Set.of(AclOperation.READ.code(),
        AclOperation.DESCRIBE.code(), AclOperation.DELETE.code(), AclOperation.DESCRIBE_CONFIGS.code(),
        AclOperation.ALTER_CONFIGS.code()));

    /** What the subscriptions resolve to: existing topics by name, and the topics each regex matches. */
    record Subscriptions(Map<String, ServerAssignor.Topic> topics, Map<String, Set<String>> regexMatches) {
        static final Subscriptions NONE = new Subscriptions(Map.of(), Map.of());
    }

    final String groupId;
    int groupEpoch;
    int assignmentEpoch;
    final Map<String, ConsumerGroupMember> members = new LinkedHashMap<>();
    /** Instance id to member id, for static members. */
    final Map<String, String> staticMembers = new HashMap<>();
    /** Member id to its target partitions; replaced as a whole when the target is recomputed. */
    Map<String, Map<Uuid, Set<Integer>>> targetAssignment = Map.of();
    Subscriptions subscriptions = Subscriptions.NONE;
    long regexResolvedAtMs = Long.MIN_VALUE;
    /** How many members subscribe to each topic name and each regex. */
    private final Map<String, Integer> topicNameCounts = new HashMap<>();
    private final Map<String, Integer> regexCounts = new HashMap<>();
    /** The member owning each partition: assigned to it or pending its revocation. */
    private final Map<Uuid, Map<Integer, String>> owners = new HashMap<>();
    /** What the group and its members hold of the coordinator's budget. */
    final GroupMemory.Held held = new GroupMemory.Held();
    /** The part of {@link #held} charged for the partitions of the target assignment, when it was computed. */
    long partitionBytes;

    ConsumerGroupState(String groupId) {
        this.groupId = groupId;
    }

    boolean isEmpty() {
        return members.isEmpty();
    }

    int memberCount() {
        return members.size();
    }

    /** Empty, Assigning, Reconciling or Stable, capitalised as Kafka names them. */
    String stateName() {
        if (members.isEmpty()) {
            return EMPTY;
        }
        if (groupEpoch > assignmentEpoch) {
            return ASSIGNING;
        }
        for (ConsumerGroupMember member : members.values()) {
            if (!member.isReconciledTo(assignmentEpoch)) {
                return RECONCILING;
            }
        }
        return STABLE;
    }

    /** The topic names the members subscribe to, by name or through a regex (as last resolved). */
    Set<String> subscribedTopics() {
        Set<String> topics = new HashSet<>(topicNameCounts.keySet());
        subscriptions.regexMatches().values().forEach(topics::addAll);
        return topics;
    }

    Set<String> subscribedTopicNames() {
        return topicNameCounts.keySet();
    }

    Set<String> subscribedRegexes() {
        return regexCounts.keySet();
    }

    /** Kafka's ConsumerGroup.validateOffsetCommit, with the member epoch in the generation field. */
    Errors validateCommit(String memberId, int memberEpoch) {
        if (memberEpoch < 0 && members.isEmpty()) {
            return Errors.NONE;
        }
        ConsumerGroupMember member = members.get(memberId);
        if (member == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        return memberEpoch == member.memberEpoch ? Errors.NONE : Errors.STALE_MEMBER_EPOCH;
    }

    ConsumerGroupMember staticMember(String instanceId) {
        String memberId = staticMembers.get(instanceId);
        return memberId == null ? null : members.get(memberId);
    }

    void addMember(ConsumerGroupMember member) {
        members.put(member.memberId, member);
        if (member.instanceId != null) {
            staticMembers.put(member.instanceId, member.memberId);
        }
        count(member, 1);
        claim(member);
    }

    /** Removes the member and its target, releasing its partitions; the caller bumps the group epoch. */
    void removeMember(ConsumerGroupMember member) {
        member.cancelTimers();
        release(member);
        count(member, -1);
        members.remove(member.memberId);
        if (member.instanceId != null) {
            staticMembers.remove(member.instanceId, member.memberId);
        }
        if (targetAssignment.containsKey(member.memberId)) {
            Map<String, Map<Uuid, Set<Integer>>> target = new HashMap<>(targetAssignment);
            target.remove(member.memberId);
            targetAssignment = target;
        }
    }

    /** A static member's new incarnation takes the old one's place, partitions and target. */
    void replaceMember(ConsumerGroupMember old, ConsumerGroupMember replacement) {
        Map<Uuid, Set<Integer>> target = targetAssignment.get(old.memberId);
        removeMember(old);
        addMember(replacement);
        if (target != null) {
            Map<String, Map<Uuid, Set<Integer>>> updated = new HashMap<>(targetAssignment);
            updated.put(replacement.memberId, target);
            targetAssignment = updated;
        }
    }

    /** Changes the member's subscription, keeping the per-topic and per-regex counts right. */
    void subscribe(ConsumerGroupMember member, Set<String> topicNames, String regex) {
        count(member, -1);
        member.subscribedTopicNames = topicNames;
        member.subscribedTopicRegex = regex;
        count(member, 1);
    }

    private void count(ConsumerGroupMember member, int delta) {
        for (String topic : member.subscribedTopicNames) {
            topicNameCounts.merge(topic, delta, (a, b) -> a + b == 0 ? null : a + b);
        }
        if (member.subscribedTopicRegex != null) {
            regexCounts.merge(member.subscribedTopicRegex, delta, (a, b) -> a + b == 0 ? null : a + b);
        }
    }

    /** Stops recording the member as the owner of its partitions (before they change). */
    void release(ConsumerGroupMember member) {
        forEachPartition(member, (topic, partition) -> {
            Map<Integer, String> byPartition = owners.get(topic);
            if (byPartition != null && byPartition.remove(partition, member.memberId) && byPartition.isEmpty()) {
                owners.remove(topic);
            }
        });
    }

    /** Records the member as the owner of its assigned and pending-revocation partitions. */
    void claim(ConsumerGroupMember member) {
        forEachPartition(member, (topic, partition) ->
            owners.computeIfAbsent(topic, id -> new HashMap<>()).put(partition, member.memberId));
    }

    private static void forEachPartition(ConsumerGroupMember member, BiConsumer<Uuid, Integer> action) {
        for (Map<Uuid, Set<Integer>> partitions : List.of(member.assigned, member.pendingRevocation)) {
            partitions.forEach((topic, set) -> set.forEach(partition -> action.accept(topic, partition)));
        }
    }

    /** Whether a member other than {@code memberId} owns the partition. */
    boolean ownedByOther(String memberId, Uuid topic, int partition) {
        String owner = owners.getOrDefault(topic, Map.of()).get(partition);
        return owner != null && !owner.equals(memberId);
    }

    /** The ids of the existing topics the member subscribes to, by name or by regex. */
    Set<Uuid> subscribedTopicIds(ConsumerGroupMember member) {
        Set<Uuid> ids = new HashSet<>();
        addIds(member.subscribedTopicNames, ids);
        if (member.subscribedTopicRegex != null) {
            addIds(subscriptions.regexMatches().getOrDefault(member.subscribedTopicRegex, Set.of()), ids);
        }
        return ids;
    }

    private void addIds(Collection<String> names, Set<Uuid> ids) {
        for (String name : names) {
            ServerAssignor.Topic topic = subscriptions.topics().get(name);
            if (topic != null) {
                ids.add(topic.id());
            }
        }
    }

    /** The assignor most members ask for (ties to the first name), or the default. */
    String preferredAssignor() {
        Map<String, Integer> votes = new TreeMap<>();
        members.values().forEach(member -> {
            if (member.serverAssignor != null) {
                votes.merge(member.serverAssignor, 1, Integer::sum);
            }
        });
        String best = ServerAssignor.DEFAULT;
        int most = 0;
        for (Map.Entry<String, Integer> vote : votes.entrySet()) {
            if (vote.getValue() > most) {
                best = vote.getKey();
                most = vote.getValue();
            }
        }
        return best;
    }

    DescribedGroup describe(TopicLookup topics, boolean includeAuthorizedOperations) {
        DescribedGroup described = new DescribedGroup().setGroupId(groupId).setErrorCode(Errors.NONE.code())
            .setGroupState(stateName()).setGroupEpoch(groupEpoch).setAssignmentEpoch(assignmentEpoch)
            .setAssignorName(preferredAssignor())
            .setAuthorizedOperations(includeAuthorizedOperations ? ALL_GROUP_OPERATIONS : Integer.MIN_VALUE);
        List<Member> describedMembers = new ArrayList<>();
        for (ConsumerGroupMember member : members.values()) {
            describedMembers.add(new Member().setMemberId(member.memberId).setInstanceId(member.instanceId)
                .setRackId(member.rackId).setMemberEpoch(member.memberEpoch).setClientId(member.clientId)
                .setClientHost(member.clientHost)
                .setSubscribedTopicNames(new ArrayList<>(new TreeSet<>(member.subscribedTopicNames)))
                .setSubscribedTopicRegex(member.subscribedTopicRegex)
                .setAssignment(Partitions.toDescribe(topics, member.assigned, member.pendingRevocation))
                .setTargetAssignment(Partitions.toDescribe(topics,
                    targetAssignment.getOrDefault(member.memberId, Map.of())))
                .setMemberType((byte) 1));
        }
        return described.setMembers(describedMembers);
    }
}
