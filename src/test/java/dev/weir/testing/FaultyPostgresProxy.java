package dev.weir.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy between PostgreSQL clients and a PostgreSQL server, on a free loopback port, that can lose
 * the server's answers to COMMIT: in {@link #loseCommitReplies()} mode, once the server's bytes hold the
 * CommandComplete message of a COMMIT (so the transaction is committed, and durable with
 * synchronous_commit on) the proxy drops them and cuts the connection, and the client never learns that
 * its commit happened, as when a network fails at the wrong moment. Otherwise bytes pass unchanged.
 * In every mode it counts the {@link #roundTrips()} of its clients, which show what a piece of work costs
 * in waits on the server.
 *
 * <p>Each connection runs on two threads of its own, one per direction. Thread-safe.
 */
public final class FaultyPostgresProxy implements AutoCloseable {
    /** CommandComplete ('C', length 11) with the tag "COMMIT", as the server answers a committed transaction. */
    private static final byte[] COMMIT_COMPLETE = concat(new byte[] {'C', 0, 0, 0, 11},
        "COMMIT\0".getBytes(StandardCharsets.US_ASCII));

    private final TcpProxy tcp;
    private final int serverPort;
    private volatile boolean losingCommitReplies;
    private final AtomicLong lostCommitReplies = new AtomicLong();
    private final AtomicLong roundTrips = new AtomicLong();

    private FaultyPostgresProxy(TcpProxy tcp, int serverPort) {
        this.tcp = tcp;
        this.serverPort = serverPort;
    }

    /** Starts a proxy to the PostgreSQL server on the loopback port {@code serverPort}. */
    public static FaultyPostgresProxy start(int serverPort) throws IOException {
        FaultyPostgresProxy proxy = new FaultyPostgresProxy(new TcpProxy("faulty-postgres-proxy"), serverPort);
        proxy.tcp.accept(proxy::connect);
        return proxy;
    }

    /** {@code jdbcUrl} (of the proxied server) with this proxy's port instead of the server's. */
    public String throughProxy(String jdbcUrl) {
        String serverAddress = "127.0.0.1:" + serverPort + "/";
        if (!jdbcUrl.contains(serverAddress)) {
            throw new IllegalArgumentException(jdbcUrl + " is not a URL of the server on port " + serverPort);
        }
        return jdbcUrl.replace(serverAddress, "127.0.0.1:" + tcp.port() + "/");
    }

    public void passThrough() {
        losingCommitReplies = false;
    }

    /** From now on the answer to every COMMIT is lost, and its connection cut. */
    public void loseCommitReplies() {
        losingCommitReplies = true;
    }

    /** Commits whose answers the proxy dropped. */
    public long lostCommitReplies() {
        return lostCommitReplies.get();
    }

    /**
     * Round trips of every client since the proxy started: each time a client sent bytes after the server
     * had answered it (or first on its connection), it had waited for the server, however many messages it
     * then sent at once. Messages a client sends in more than one piece while the server answers the first
     * ones (a pipeline larger than the client's send buffer) count more than once.
     */
    public long roundTrips() {
        return roundTrips.get();
    }

    private void connect(Socket client) {
        Socket server;
        try {
            server = tcp.connect(InetAddress.getLoopbackAddress(), serverPort);
        } catch (IOException e) {
            return;
        }
        // Whether the server sent bytes since the client last did: the client's next bytes begin a round trip.
        AtomicBoolean answered = new AtomicBoolean(true);
        tcp.execute(() -> tcp.pump(client, server, (bytes, length) -> {
            if (answered.getAndSet(false)) {
                roundTrips.incrementAndGet();
            }
            return true;
        }));
        tcp.pump(server, client, (bytes, length) -> {
            if (!passFromServer(bytes, length)) {
                return false;
            }
            answered.set(true); // before the client can see the bytes and answer them
            return true;
        });
    }

    /**
     * Whether the server's bytes go on to the client: not when they hold a COMMIT's answer while commit
     * replies are being lost. A COMMIT message split between two reads is not seen: the next one is.
     */
    private boolean passFromServer(byte[] bytes, int length) {
        if (losingCommitReplies && contains(bytes, length, COMMIT_COMPLETE)) {
            lostCommitReplies.incrementAndGet();
            return false;
        }
        return true;
    }

    private static boolean contains(byte[] buffer, int length, byte[] pattern) {
        for (int start = 0; start + pattern.length <= length; start++) {
            if (Arrays.equals(buffer, start, start + pattern.length, pattern, 0, pattern.length)) {
                return true;
            }
        }
        return false;
    }

    private static byte[] concat(byte[] first, byte[] second) {
        byte[] both = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        return both;
    }

    @Override
    public void close() {
        tcp.close();
    }
}
