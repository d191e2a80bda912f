package dev.weir.metadata.postgres;

import dev.weir.metadata.PartitionKey;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.common.Uuid;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits made known to every broker on the database, with PostgreSQL's LISTEN/NOTIFY: each commit
 * sends, inside its transaction (so only once it is committed, and in commit order), the next offsets of
 * the partitions it touched on the {@value #CHANNEL} channel, marked with the sending store's id; each
 * store listens on a connection of its own and hands other stores' notices to its listener. A notice
 * holds at most {@value #MAX_PAYLOAD_CHARS} characters (PostgreSQL's limit is 8000 bytes), so a commit
 * to many partitions sends several. When the listening connection fails, notices sent meanwhile are lost:
 * once it is back, the listener gets every partition's next offset instead.
 */
final class CommitNotices {
    static final String CHANNEL = "weir_commits";
    private static final Logger LOG = LoggerFactory.getLogger(CommitNotices.class);
    private static final int MAX_PAYLOAD_CHARS = 7000;
    /** How long one wait for notices lasts, so that closing is seen. */
    private static final int POLL_MS = 500;
    /** Waits between attempts to listen again after the connection failed, doubling up to the last. */
    private static final long FIRST_RETRY_MS = 100;
    private static final long MAX_RETRY_MS = 5000;

    /** This store's id in its notices, so that it skips its own. */
    private final String sender = UUID.randomUUID().toString().substring(0, 8);
    private final String jdbcUrl;
    private final String user;
    private final String password;

    CommitNotices(String jdbcUrl, String user, String password) {
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
    }

    /**
     * Sends the partitions' next offsets with the committing transaction's other statements: the notices
     * go out when it commits, and not at all if it does not.
     */
    void send(Pipeline commit, Map<PartitionKey, Long> nextOffsets) {
        if (nextOffsets.isEmpty()) {
            return;
        }
        List<String> payloads = new ArrayList<>();
        StringBuilder payload = new StringBuilder(sender);
        for (Map.Entry<PartitionKey, Long> entry : nextOffsets.entrySet()) {
            String item = ";" + entry.getKey().topicId() + "," + entry.getKey().partition() + "," + entry.getValue();
            if (payload.length() + item.length() > MAX_PAYLOAD_CHARS) {
                payloads.add(payload.toString());
                payload = new StringBuilder(sender);
            }
            payload.append(item);
        }
        payloads.add(payload.toString());
        commit.query("SELECT pg_notify('" + CHANNEL + "', payload) FROM unnest(?::text[]) AS payload",
            parameters -> parameters.setArray("text", payloads.toArray()), rows -> { });
    }

    /**
     * Starts listening on a thread of its own: {@code listener} gets other stores' notices, and
     * {@code everything} (every partition's next offset) once listening has begun and whenever it begins
     * again after a failure.
     */
    AutoCloseable follow(Consumer<Map<PartitionKey, Long>> listener, Supplier<Map<PartitionKey, Long>> everything) {
        Listening listening = new Listening(listener, everything);
        Thread thread = new Thread(listening, "weir-commit-notices");
        thread.setDaemon(true);
        thread.start();
        return () -> {
            listening.closed = true;
            thread.interrupt();
            thread.join(10_000);
        };
    }

    private final class Listening implements Runnable {
        private final Consumer<Map<PartitionKey, Long>> listener;
        private final Supplier<Map<PartitionKey, Long>> everything;
        private volatile boolean closed;

        Listening(Consumer<Map<PartitionKey, Long>> listener, Supplier<Map<PartitionKey, Long>> everything) {
            this.listener = listener;
            this.everything = everything;
        }

        @Override
        public void run() {
            long retryMs = FIRST_RETRY_MS;
            boolean failing = false;
            while (!closed) {
                try (Connection connection = DriverManager.getConnection(jdbcUrl, user, password)) {
                    try (Statement listen = connection.createStatement()) {
                        listen.execute("LISTEN " + CHANNEL);
                    }
                    // Commits made before LISTEN took effect were not noticed: catch up on all of them.
                    listener.accept(everything.get());
                    if (failing) {
                        LOG.info("Listening to other brokers' commits again");
                        failing = false;
                    }
                    retryMs = FIRST_RETRY_MS;
                    PGConnection notices = connection.unwrap(PGConnection.class);
                    while (!closed) {
                        PGNotification[] received = notices.getNotifications(POLL_MS);
                        if (received != null) {
                            for (PGNotification notice : received) {
                                Map<PartitionKey, Long> offsets = parse(notice.getParameter());
                                if (offsets != null) {
                                    listener.accept(offsets);
                                }
                            }
                        }
                    }
                } catch (SQLException | RuntimeException e) {
                    if (closed) {
                        return;
                    }
                    if (!failing) {
                        LOG.warn("Listening to other brokers' commits failed; retrying (fetches may see their records"
                            + " late until then): {}", e.toString());
                        failing = true;
                    }
                    try {
                        Thread.sleep(retryMs);
                    } catch (InterruptedException interrupted) {
                        return;
                    }
                    retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
                }
            }
        }
    }

    /** The offsets of a notice of another store, or null for this store's own (or one it cannot read). */
    private Map<PartitionKey, Long> parse(String payload) {
        String[] items = payload.split(";");
        if (items.length < 2 || items[0].equals(sender)) {
            return null;
        }
        Map<PartitionKey, Long> offsets = new HashMap<>();
        try {
            for (int i = 1; i < items.length; i++) {
                String[] fields = items[i].split(",");
                offsets.put(new PartitionKey(Uuid.fromString(fields[0]), Integer.parseInt(fields[1])),
                    Long.parseLong(fields[2]));
            }
        } catch (RuntimeException e) {
            LOG.warn("Ignoring a commit notice that cannot be read: {}", payload);
            return null;
        }
        return offsets;
    }
}
