package dev.weir.metadata.postgres;

import dev.weir.metadata.PartitionKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits made known to every broker on the database: each commit sends, inside its transaction, the
 * next offsets of the partitions it touched on the {@value #CHANNEL} channel ({@link Notices}). A notice
 * holds at most {@value Notices#MAX_PAYLOAD_CHARS} characters, so a commit to many partitions sends
 * several. Whenever listening begins (again), the listener gets every partition's next offset instead
 * of the notices it may have missed.
 */
final class CommitNotices {
    static final String CHANNEL = "weir_commits";
    private static final Logger LOG = LoggerFactory.getLogger(CommitNotices.class);

    private final Notices notices;

    CommitNotices(String sender, String jdbcUrl, String user, String password) {
        this.notices = new Notices(CHANNEL, sender, jdbcUrl, user, password);
    }

    /**
     * Sends the partitions' next offsets with the committing transaction's other statements: the notices
     * go out when it commits, and not at all if it does not.
     */
    void send(Pipeline commit, Map<PartitionKey, Long> nextOffsets) {
        if (nextOffsets.isEmpty()) {
            return;
        }
        List<String> bodies = new ArrayList<>();
        StringBuilder body = new StringBuilder();
        for (Map.Entry<PartitionKey, Long> entry : nextOffsets.entrySet()) {
            String item = entry.getKey().topicId() + "," + entry.getKey().partition() + "," + entry.getValue();
            // Room for the sender's id and its separator in front.
            if (body.length() > 0 && body.length() + item.length() + 1 > Notices.MAX_PAYLOAD_CHARS - 16) {
                bodies.add(body.toString());
                body.setLength(0);
            }
            body.append(body.length() > 0 ? ";" : "").append(item);
        }
        bodies.add(body.toString());
        notices.send(commit, bodies);
    }

    /**
     * Starts listening on a thread of its own: {@code listener} gets other stores' notices, and
     * {@code everything} (every partition's next offset) once listening has begun and whenever it begins
     * again after a failure.
     */
    AutoCloseable follow(Consumer<Map<PartitionKey, Long>> listener, Supplier<Map<PartitionKey, Long>> everything) {
        return notices.follow("weir-commit-notices", "commits (fetches may see their records late until then)",
            new Notices.Listener() {
                @Override
                public void notice(String body) {
                    Map<PartitionKey, Long> offsets = parse(body);
                    if (offsets != null) {
                        listener.accept(offsets);
                    }
                }

                @Override
                public void catchUp() {
                    listener.accept(everything.get());
                }
            });
    }

    /** The offsets of a notice, or null for one that cannot be read. */
    private static Map<PartitionKey, Long> parse(String body) {
        Map<PartitionKey, Long> offsets = new HashMap<>();
        try {
            for (String item : body.split(";")) {
                String[] fields = item.split(",");
                offsets.put(new PartitionKey(Uuid.fromString(fields[0]), Integer.parseInt(fields[1])),
                    Long.parseLong(fields[2]));
            }
        } catch (RuntimeException e) {
            LOG.warn("Ignoring a commit notice that cannot be read: {}", body);
            return null;
        }
        return offsets;
    }
}
