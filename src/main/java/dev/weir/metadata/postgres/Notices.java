package dev.weir.metadata.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One channel of PostgreSQL's LISTEN/NOTIFY between the brokers on a database. A notice is sent inside
 * the transaction whose change it tells of, so it goes out when that commits, in commit order, and not
 * at all if it does not; it carries the sending store's id, so a store skips its own. A store listens on
 * a connection of its own, on a thread of its own. When that connection fails, notices sent meanwhile
 * are lost: once listening begins again, the listener is told to catch up instead.
 */
final class Notices {
    private static final Logger LOG = LoggerFactory.getLogger(Notices.class);
    /** PostgreSQL's limit is 8000 bytes a notice; payloads of ASCII characters stay well below it. */
    static final int MAX_PAYLOAD_CHARS = 7000;
    /** How long one wait for notices lasts, so that closing is seen. */
    private static final int POLL_MS = 500;
    /** Waits between attempts to listen again after the connection failed, doubling up to the last. */
    private static final long FIRST_RETRY_MS = 100;
    private static final long MAX_RETRY_MS = 5000;

    /** What a listener hears: other stores' notices, and when to catch up on all it may have missed. */
    interface Listener {
        /** Another store's notice, without the sender's id. */
        void notice(String body);

        /** Listening has begun, or begun again after a failure: changes made before may not have been heard. */
        void catchUp();
    }

    private final String channel;
    /** This store's id in its notices. */
    private final String sender;
    private final String jdbcUrl;
    private final String user;
    private final String password;

    Notices(String channel, String sender, String jdbcUrl, String user, String password) {
        this.channel = channel;
        this.sender = sender;
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
    }

    /** A new id for a store's notices on every channel. */
    static String newSender() {
        return UUID.randomUUID().toString().substring(0, 8);
    }

    /** Sends the bodies (each at most {@value #MAX_PAYLOAD_CHARS} characters) with the commit's other statements. */
    void send(Pipeline commit, List<String> bodies) {
        if (bodies.isEmpty()) {
            return;
        }
        Object[] payloads = bodies.stream().map(body -> sender + ";" + body).toArray();
        commit.query("SELECT pg_notify('" + channel + "', payload) FROM unnest(?::text[]) AS payload",
            parameters -> parameters.setArray("text", payloads), rows -> { });
    }

    /** Sends one notice in the transaction of {@code connection}. */
    void send(Connection connection, String body) throws SQLException {
        try (PreparedStatement notify = connection.prepareStatement("SELECT pg_notify('" + channel + "', ?)")) {
            notify.setString(1, sender + ";" + body);
            notify.executeQuery().close();
        }
    }

    /** Starts listening on a thread named {@code threadName}; closing the result stops it. */
    AutoCloseable follow(String threadName, String what, Listener listener) {
        Listening listening = new Listening(what, listener);
        Thread thread = new Thread(listening, threadName);
        thread.setDaemon(true);
        thread.start();
        return () -> {
            listening.closed = true;
            thread.interrupt();
            thread.join(10_000);
        };
    }

    private final class Listening implements Runnable {
        private final String what;
        private final Listener listener;
        private volatile boolean closed;

        Listening(String what, Listener listener) {
            this.what = what;
            this.listener = listener;
        }

        @Override
        public void run() {
            long retryMs = FIRST_RETRY_MS;
            boolean failing = false;
            while (!closed) {
                try (Connection connection = DriverManager.getConnection(jdbcUrl, user, password)) {
                    try (Statement listen = connection.createStatement()) {
                        listen.execute("LISTEN " + channel);
                    }
                    // Changes made before LISTEN took effect were not heard of.
                    listener.catchUp();
                    if (failing) {
                        LOG.info("Listening to other brokers' {} again", what);
                        failing = false;
                    }
                    retryMs = FIRST_RETRY_MS;
                    PGConnection notices = connection.unwrap(PGConnection.class);
                    while (!closed) {
                        PGNotification[] received = notices.getNotifications(POLL_MS);
                        if (received != null) {
                            for (PGNotification notice : received) {
                                String payload = notice.getParameter();
                                int end = payload.indexOf(';');
                                if (end > 0 && !payload.substring(0, end).equals(sender)) {
                                    listener.notice(payload.substring(end + 1));
                                }
                            }
                        }
                    }
                } catch (SQLException | RuntimeException e) {
                    if (closed) {
                        return;
                    }
                    if (!failing) {
                        LOG.warn("Listening to other brokers' {} failed; retrying: {}", what, e.toString());
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
}
