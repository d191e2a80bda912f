package dev.weir.groups;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.common.Uuid;

/**
 * The {@code range} assignor: for each topic, its subscribers (static members first by instance id,
 * then the others by member id) get contiguous ranges, the first {@code partitions % subscribers}
 * one partition more than the rest. With the same subscriptions and partition counts everywhere this
 * co-partitions the topics. Not sticky beyond that order, as in Kafka. Stateless and thread-safe.
 */
final class RangeAssignor implements ServerAssignor {
    static final String NAME = "range";
    static final RangeAssignor INSTANCE = new RangeAssignor();

    private static final Comparator<MemberSpec> ORDER = Comparator
        .comparing((MemberSpec member) -> member.instanceId() == null)
        .thenComparing(member -> member.instanceId() == null ? "" : member.instanceId())
        .thenComparing(MemberSpec::memberId);

    private RangeAssignor() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Map<Uuid, Set<Integer>>> assign(List<MemberSpec> members, List<Topic> topics) {
        Map<String, Map<Uuid, Set<Integer>>> assignment = new LinkedHashMap<>();
        members.forEach(member -> assignment.put(member.memberId(), new HashMap<>()));
        List<MemberSpec> sorted = new ArrayList<>(members);
        sorted.sort(ORDER);
        for (Topic topic : topics) {
            List<MemberSpec> subscribers = sorted.stream()
                .filter(member -> member.topics().contains(topic.id())).toList();
            if (subscribers.isEmpty()) {
                continue;
            }
            int quota = topic.partitions() / subscribers.size();
            int extra = topic.partitions() % subscribers.size();
            int next = 0;
            for (int i = 0; i < subscribers.size(); i++) {
                int count = quota + (i < extra ? 1 : 0);
                if (count > 0) {
                    assignment.get(subscribers.get(i).memberId()).put(topic.id(),
                        IntStream.range(next, next + count).boxed().collect(Collectors.toUnmodifiableSet()));
                }
                next += count;
            }
        }
        return assignment;
    }
}
