package dev.weir.groups;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.Uuid;

/**
 * A server-side partition assignor of the consumer protocol, chosen by name in the members'
 * ConsumerGroupHeartbeat ({@code group.remote.assignor} on the Java client): {@code uniform}
 * (Kafka's default) or {@code range}. Implementations are stateless and thread-safe.
 */
interface ServerAssignor {
    String DEFAULT = UniformAssignor.NAME;

    /** A topic some member subscribes to, as it exists now. */
    record Topic(Uuid id, String name, int partitions) {
    }

    /**
     * A member as the assignor sees it: the existing topics it subscribes to and its current target
     * assignment (which sticky assignors try to keep).
     */
    record MemberSpec(String memberId, String instanceId, Set<Uuid> topics, Map<Uuid, Set<Integer>> currentTarget) {
    }

    String name();

    /**
     * The target assignment: for every member, its partitions by topic id (a member may get none).
     * Every partition of a topic that at least one member subscribes to goes to exactly one member
     * that subscribes to it.
     *
     * @param members the group's members, in a stable order
     * @param topics  the subscribed topics that exist, sorted by name
     */
    Map<String, Map<Uuid, Set<Integer>>> assign(List<MemberSpec> members, List<Topic> topics);

    /** The assignor with this name, or null if Weir has none by that name. */
    static ServerAssignor named(String name) {
        if (UniformAssignor.NAME.equals(name)) {
            return UniformAssignor.INSTANCE;
        }
        if (RangeAssignor.NAME.equals(name)) {
            return RangeAssignor.INSTANCE;
        }
        return null;
    }

    static List<String> names() {
        return List.of(UniformAssignor.NAME, RangeAssignor.NAME);
    }
}
