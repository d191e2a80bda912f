package dev.weir.groups;

import dev.weir.groups.ClassicGroup.State;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DeleteGroupsResponseData.DeletableGroupResult;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroup;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroupMember;
import org.apache.kafka.common.message.ListGroupsResponseData.ListedGroup;
import org.apache.kafka.common.protocol.Errors;

/**
 * ListGroups, DescribeGroups and DeleteGroups over classic groups, consumer-protocol groups and groups
 * that only have committed offsets (listed as Empty, as Kafka lists them). Runs on the coordinator
 * thread.
 */
public final class GroupAdministration {
    private final GroupCoordinator groups;
    private final OffsetCoordinator offsets;

    public GroupAdministration(GroupCoordinator groups, OffsetCoordinator offsets) {
        this.groups = groups;
        this.offsets = offsets;
    }

    /** Groups whose state and type pass the filters (an empty filter passes everything; case-insensitive). */
    public CompletableFuture<List<ListedGroup>> list(List<String> statesFilter, List<String> typesFilter) {
        return groups.onCoordinator(() -> CompletableFuture.completedFuture(doList(statesFilter, typesFilter)));
    }

    private List<ListedGroup> doList(List<String> statesFilter, List<String> typesFilter) {
        Map<String, ListedGroup> listed = new LinkedHashMap<>();
        for (String groupId : offsets.offsets().groups()) {
            listed.put(groupId, new ListedGroup().setGroupId(groupId).setProtocolType("consumer")
                .setGroupState(State.EMPTY.kafkaName).setGroupType("classic"));
        }
        for (ClassicGroup group : groups.groups.values()) {
            if (group.state == State.DEAD) {
                continue;
            }
            listed.put(group.groupId, new ListedGroup().setGroupId(group.groupId)
                .setProtocolType(group.protocolType == null ? "" : group.protocolType)
                .setGroupState(group.state.kafkaName).setGroupType("classic"));
        }
        for (ConsumerGroupState group : groups.consumerGroups().values()) {
            listed.put(group.groupId, new ListedGroup().setGroupId(group.groupId).setProtocolType("consumer")
                .setGroupState(group.stateName()).setGroupType("consumer"));
        }
        List<ListedGroup> result = new ArrayList<>();
        for (ListedGroup group : listed.values()) {
            if (matches(statesFilter, group.groupState()) && matches(typesFilter, group.groupType())) {
                result.add(group);
            }
        }
        return result;
    }

    private static boolean matches(List<String> filter, String value) {
        return filter == null || filter.isEmpty() || filter.stream().anyMatch(wanted -> wanted.equalsIgnoreCase(value));
    }

    public CompletableFuture<List<DescribedGroup>> describe(List<String> groupIds, short version) {
        return groups.onCoordinator(() -> {
            List<DescribedGroup> described = new ArrayList<>();
            for (String groupId : groupIds) {
                described.add(describeOne(groupId, version));
            }
            return CompletableFuture.completedFuture(described);
        });
    }

    private DescribedGroup describeOne(String groupId, short version) {
        ClassicGroup group = groups.groups.get(groupId);
        if (group == null) {
            boolean known = offsets.offsets().hasOffsets(groupId) || groups.consumerGroups().containsKey(groupId);
            if (groups.consumerGroups().containsKey(groupId)) {
                return new DescribedGroup().setGroupId(groupId).setErrorCode(Errors.GROUP_ID_NOT_FOUND.code())
                    .setErrorMessage(version >= 6 ? "Group " + groupId + " is not a classic group." : null)
                    .setGroupState(State.DEAD.kafkaName).setProtocolType("").setProtocolData("");
            }
            if (!known && version >= 6) {
                return new DescribedGroup().setGroupId(groupId).setErrorCode(Errors.GROUP_ID_NOT_FOUND.code())
                    .setErrorMessage("Group " + groupId + " not found.").setGroupState(State.DEAD.kafkaName)
                    .setProtocolType("").setProtocolData("");
            }
            return new DescribedGroup().setGroupId(groupId).setErrorCode(Errors.NONE.code())
                .setGroupState(known ? State.EMPTY.kafkaName : State.DEAD.kafkaName)
                .setProtocolType(known ? "consumer" : "").setProtocolData("");
        }
        boolean stable = group.state == State.STABLE;
        DescribedGroup described = new DescribedGroup().setGroupId(groupId).setErrorCode(Errors.NONE.code())
            .setGroupState(group.state.kafkaName).setProtocolType(group.protocolType == null ? "" : group.protocolType)
            .setProtocolData(stable && group.protocolName != null ? group.protocolName : "");
        for (ClassicMember member : group.members.values()) {
            described.members().add(new DescribedGroupMember().setMemberId(member.memberId)
                .setGroupInstanceId(member.groupInstanceId).setClientId(member.clientId).setClientHost(member.clientHost)
                .setMemberMetadata(stable ? member.metadata(group.protocolName) : new byte[0])
                .setMemberAssignment(stable ? member.assignment : new byte[0]));
        }
        return described;
    }

    public CompletableFuture<List<DeletableGroupResult>> delete(List<String> groupIds) {
        return groups.onCoordinator(() -> {
            List<DeletableGroupResult> results = new ArrayList<>();
            for (String groupId : groupIds) {
                results.add(new DeletableGroupResult().setGroupId(groupId).setErrorCode(deleteOne(groupId).code()));
            }
            return CompletableFuture.completedFuture(results);
        });
    }

    private Errors deleteOne(String groupId) {
        ClassicGroup group = groups.groups.get(groupId);
        ConsumerGroupState consumerGroup = groups.consumerGroups().get(groupId);
        boolean hasOffsets = offsets.offsets().hasOffsets(groupId);
        if (group == null && consumerGroup == null && !hasOffsets) {
            return Errors.GROUP_ID_NOT_FOUND;
        }
        if ((group != null && group.state != State.EMPTY) || (consumerGroup != null && !consumerGroup.isEmpty())) {
            return Errors.NON_EMPTY_GROUP;
        }
        try {
            offsets.offsets().deleteGroup(groupId);
        } catch (RuntimeException e) {
            return Errors.KAFKA_STORAGE_ERROR;
        }
        if (group != null) {
            groups.removeClassicGroup(group);
        }
        if (consumerGroup != null) {
            groups.removeConsumerGroup(consumerGroup);
        }
        return Errors.NONE;
    }
}
