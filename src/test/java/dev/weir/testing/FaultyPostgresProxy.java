package dev.weir.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy between PostgreSQL clients and a PostgreSQL server, on a free loopback port, that can lose
 * the server's answers to COMMIT: in {@link #loseCommitReplies()} mode, once the server's bytes hold the
 * CommandComplete message of a COMMIT (so the transaction is committed, and durable with
 * synchronous_commit on) the proxy drops them and cuts the connection, and the client never learns that
 * its commit happened, as when a network fails at the wrong moment. Otherwise bytes pass unchanged.
 *
 * <p>Each connection runs on two threads of its own, one per direction. Thread-safe.
 */
public final class FaultyPostgresProxy implements AutoCloseable {
    /** CommandComplete ('C', length 11) with the tag "COMMIT", as the server answers a committed transaction. */
    private static final byte[] COMMIT_COMPLETE = concat(new byte[] {'C', 0, 0, 0, 11},
        "COMMIT\0".getBytes(StandardCharsets.US_ASCII));

    private final ServerSocket listener;
    private final int serverPort;
    private final ExecutorService threads = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "faulty-postgres-proxy");
        thread.setDaemon(true);
        return thread;
    });
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean losingCommitReplies;
    private volatile boolean closed;
    private final AtomicLong lostCommitReplies = new AtomicLong();

    private FaultyPostgresProxy(ServerSocket listener, int serverPort) {
        this.listener = listener;
        this.serverPort = serverPort;
    }

    /** Starts a proxy to the PostgreSQL server on the loopback port {@code serverPort}. */
    public static FaultyPostgresProxy start(int serverPort) throws IOException {
        FaultyPostgresProxy proxy = new FaultyPostgresProxy(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()),
            serverPort);
        proxy.threads.execute(proxy::acceptLoop);
        return proxy;
    }

    /** {@code jdbcUrl} (of the proxied server) with this proxy's port instead of the server's. */
    public String throughProxy(String jdbcUrl) {
        String serverAddress = "127.0.0.1:" + serverPort + "/";
        if (!jdbcUrl.contains(serverAddress)) {
            throw new IllegalArgumentException(jdbcUrl + " is not a URL of the server on port " + serverPort);
        }
        return jdbcUrl.replace(serverAddress, "127.0.0.1:" + listener.getLocalPort() + "/");
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

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            open.add(client);
            threads.execute(() -> connect(client));
        }
    }

    private void connect(Socket client) {
        Socket server;
        try {
            server = new Socket(InetAddress.getLoopbackAddress(), serverPort);
        } catch (IOException e) {
            closeQuietly(client);
            return;
        }
        open.add(server);
        threads.execute(() -> copy(client, server, false));
        copy(server, client, true);
    }

    /**
     * Copies bytes from one socket to the other until either closes; the server's bytes are watched for
     * a COMMIT's answer while commit replies are being lost. A COMMIT message split between two reads is
     * not seen: the next one is.
     */
    private void copy(Socket from, Socket to, boolean fromServer) {
        byte[] buffer = new byte[64 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int read; (read = in.read(buffer)) >= 0; ) {
                if (fromServer && losingCommitReplies && contains(buffer, read, COMMIT_COMPLETE)) {
                    lostCommitReplies.incrementAndGet();
                    return;
                }
                out.write(buffer, 0, read);
                out.flush();
            }
        } catch (IOException e) {
            // One side went away: the connection ends.
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            open.remove(from);
            open.remove(to);
        }
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

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing is all that was left to do.
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(listener);
        open.forEach(FaultyPostgresProxy::closeQuietly);
        threads.shutdownNow();
    }

    private static void closeQuietly(ServerSocket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Nothing to do about it.
        }
    }
}
