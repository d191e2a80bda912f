package dev.weir.cluster;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.Uuid;

/**
 * Rendezvous (highest random weight) hashing over brokers: each broker gets a score per key (a partition,
 * a group id), and the brokers in falling order of score are the key's order of preference. Every broker
 * computes the same order from the same live set without talking to the others, and a broker joining or
 * leaving moves only the keys it wins or held.
 */
public final class Rendezvous {
    private Rendezvous() {
    }

    /** The node ids in the partition's order of preference: the first leads. */
    public static List<Integer> order(Uuid topicId, int partition, List<Integer> nodeIds) {
        long key = mix(topicId.getMostSignificantBits() ^ mix(topicId.getLeastSignificantBits() ^ mix(partition)));
        List<Integer> ordered = new ArrayList<>(nodeIds);
        ordered.sort((a, b) -> {
            int byScore = Long.compareUnsigned(score(key, b), score(key, a));
            return byScore != 0 ? byScore : Integer.compare(a, b);
        });
        return ordered;
    }

    /** The node id that ranks first for {@code key} (a group id, say). */
    public static int owner(String key, List<Integer> nodeIds) {
        long hash = mix(key.hashCode() ^ ((long) key.length() << 32));
        int best = -1;
        long bestScore = 0;
        for (int node : nodeIds) {
            long score = score(hash, node);
            int byScore = Long.compareUnsigned(score, bestScore);
            if (best == -1 || byScore > 0 || (byScore == 0 && node < best)) {
                best = node;
                bestScore = score;
            }
        }
        return best;
    }

    private static long score(long key, int node) {
        return mix(key ^ mix(node + 0x9E3779B97F4A7C15L));
    }

    /** The finalisation step of MurmurHash3's 64-bit hash: every input bit moves every output bit. */
    static long mix(long value) {
        long h = value;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb93fe53a1a85L;
        h ^= h >>> 33;
        return h;
    }
}
