package dev.weir.groups;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.Uuid;

/**
 * The {@code uniform} assignor (Kafka's default): spreads the partitions so that members differ by
 * at most one partition where their subscriptions allow it, and keeps each member's current target
 * partitions where that balance allows (sticky), so a rebalance moves as few partitions as it can.
 *
 * <p>Three steps: keep every current target partition the member still subscribes to; give each
 * unassigned partition to its least loaded subscriber; then move single partitions from a member to a
 * subscriber with at least two fewer until none can move (each move lowers the sum of squared loads,
 * so this ends). Stateless and thread-safe.
 */
final class UniformAssignor implements ServerAssignor {
    static final String NAME = "uniform";
    static final UniformAssignor INSTANCE = new UniformAssignor();

    private UniformAssignor() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Map<Uuid, Set<Integer>>> assign(List<MemberSpec> members, List<Topic> topics) {
        Assignment assignment = new Assignment(members, topics);
        assignment.keepCurrentTargets();
        assignment.assignFreePartitions();
        assignment.balance();
        return assignment.result();
    }

    /** One computation's working state: who owns each partition and how many each member has. */
    private static final class Assignment {
        private final List<MemberSpec> members;
        private final List<Topic> topics;
        private final Map<Uuid, int[]> owners = new HashMap<>();
        private final Map<Uuid, int[]> subscribers = new HashMap<>();
        private final int[] load;

        Assignment(List<MemberSpec> members, List<Topic> topics) {
            this.members = members;
            this.topics = topics;
            this.load = new int[members.size()];
            for (Topic topic : topics) {
                int[] owner = new int[topic.partitions()];
                Arrays.fill(owner, -1);
                owners.put(topic.id(), owner);
                List<Integer> subscribed = new ArrayList<>();
                for (int i = 0; i < members.size(); i++) {
                    if (members.get(i).topics().contains(topic.id())) {
                        subscribed.add(i);
                    }
                }
                subscribers.put(topic.id(), subscribed.stream().mapToInt(Integer::intValue).toArray());
            }
        }

        void keepCurrentTargets() {
            for (int i = 0; i < members.size(); i++) {
                MemberSpec member = members.get(i);
                for (Map.Entry<Uuid, Set<Integer>> entry : member.currentTarget().entrySet()) {
                    int[] owner = owners.get(entry.getKey());
                    if (owner == null || !member.topics().contains(entry.getKey())) {
                        continue;
                    }
                    for (int partition : new TreeSet<>(entry.getValue())) {
                        if (partition < owner.length && owner[partition] == -1) {
                            owner[partition] = i;
                            load[i]++;
                        }
                    }
                }
            }
        }

        void assignFreePartitions() {
            for (Topic topic : topics) {
                int[] owner = owners.get(topic.id());
                int[] candidates = subscribers.get(topic.id());
                if (candidates.length == 0) {
                    continue;
                }
                for (int partition = 0; partition < owner.length; partition++) {
                    if (owner[partition] == -1) {
                        int chosen = leastLoaded(candidates);
                        owner[partition] = chosen;
                        load[chosen]++;
                    }
                }
            }
        }

        void balance() {
            boolean moved = true;
            while (moved) {
                moved = false;
                for (Topic topic : topics) {
                    int[] owner = owners.get(topic.id());
                    int[] candidates = subscribers.get(topic.id());
                    for (int partition = owner.length - 1; partition >= 0 && candidates.length > 1; partition--) {
                        int from = owner[partition];
                        int to = leastLoaded(candidates);
                        if (load[from] - load[to] >= 2) {
                            owner[partition] = to;
                            load[from]--;
                            load[to]++;
                            moved = true;
                        }
                    }
                }
            }
        }

        private int leastLoaded(int[] candidates) {
            int best = candidates[0];
            for (int candidate : candidates) {
                if (load[candidate] < load[best]) {
                    best = candidate;
                }
            }
            return best;
        }

        Map<String, Map<Uuid, Set<Integer>>> result() {
            List<Map<Uuid, Set<Integer>>> byMember = new ArrayList<>();
            members.forEach(member -> byMember.add(new HashMap<>()));
            owners.forEach((topicId, owner) -> {
                for (int partition = 0; partition < owner.length; partition++) {
                    if (owner[partition] >= 0) {
                        byMember.get(owner[partition]).computeIfAbsent(topicId, id -> new TreeSet<>()).add(partition);
                    }
                }
            });
            Map<String, Map<Uuid, Set<Integer>>> result = new LinkedHashMap<>();
            for (int i = 0; i < members.size(); i++) {
                Map<Uuid, Set<Integer>> frozen = new HashMap<>();
                byMember.get(i).forEach((topicId, partitions) -> frozen.put(topicId, Set.copyOf(partitions)));
                result.put(members.get(i).memberId(), Map.copyOf(frozen));
            }
            return result;
        }
    }
}
