package dev.weir.groups;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;

/** Helpers over sets of partitions by topic id, as consumer-group assignments hold them. Stateless. */
final class Partitions {
    private Partitions() {
    }

    static Set<Integer> union(Set<Integer> a, Set<Integer> b) {
        Set<Integer> union = new HashSet<>(a);
        union.addAll(b);
        return Set.copyOf(union);
    }

    /** Whether every reported partition is in {@code assignment} (a null report is not a subset). */
    static boolean isSubset(List<ConsumerGroupHeartbeatRequestData.TopicPartitions> reported,
                            Map<Uuid, Set<Integer>> assignment) {
        if (reported == null) {
            return false;
        }
        for (ConsumerGroupHeartbeatRequestData.TopicPartitions topic : reported) {
            Set<Integer> partitions = assignment.get(topic.topicId());
            if (!topic.partitions().isEmpty() && (partitions == null || !partitions.containsAll(topic.partitions()))) {
                return false;
            }
        }
        return true;
    }

    static ConsumerGroupHeartbeatResponseData.Assignment toHeartbeat(Map<Uuid, Set<Integer>> assignment) {
        List<ConsumerGroupHeartbeatResponseData.TopicPartitions> topics = new ArrayList<>();
        assignment.forEach((topicId, partitions) -> topics.add(new ConsumerGroupHeartbeatResponseData.TopicPartitions()
            .setTopicId(topicId).setPartitions(new ArrayList<>(new TreeSet<>(partitions)))));
        return new ConsumerGroupHeartbeatResponseData.Assignment().setTopicPartitions(topics);
    }

    /** Partitions by topic for ConsumerGroupDescribe; topics that no longer exist are left out, as Kafka does. */
    @SafeVarargs
    static ConsumerGroupDescribeResponseData.Assignment toDescribe(TopicLookup topics,
                                                                   Map<Uuid, Set<Integer>>... assignments) {
        Map<Uuid, Set<Integer>> merged = new TreeMap<>();
        for (Map<Uuid, Set<Integer>> assignment : assignments) {
            assignment.forEach((topicId, partitions) ->
                merged.computeIfAbsent(topicId, id -> new TreeSet<>()).addAll(partitions));
        }
        List<ConsumerGroupDescribeResponseData.TopicPartitions> described = new ArrayList<>();
        merged.forEach((topicId, partitions) -> {
            String name = topics.nameOf(topicId);
            if (name != null) {
                described.add(new ConsumerGroupDescribeResponseData.TopicPartitions().setTopicId(topicId)
                    .setTopicName(name).setPartitions(new ArrayList<>(partitions)));
            }
        });
        return new ConsumerGroupDescribeResponseData.Assignment().setTopicPartitions(described);
    }
}
