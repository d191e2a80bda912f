package dev.weir.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * What the test proxies share: a listener on a free loopback port that serves each connection it accepts
 * on a thread of its own, connections onward to the server, and the pump that copies one socket's bytes to
 * the other. It knows every connection it opened or accepted, so closing it ends them all, stalled ones
 * included. Thread-safe.
 */
final class TcpProxy implements AutoCloseable {
    /** Sees each piece of bytes a pump read before it is passed on; false drops it and cuts the connection. */
    interface Watch {
        boolean pass(byte[] bytes, int length);
    }

    /** A watch that passes everything. */
    static final Watch PASS_ALL = (bytes, length) -> true;

    private final ServerSocket listener;
    private final ExecutorService threads;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /** Opens the listener; connections wait until {@link #accept} starts taking them. */
    TcpProxy(String threadName) throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, threadName);
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Starts accepting connections: each is handed to {@code serve} on a thread of its own, and closed
     * when {@code serve} returns.
     */
    void accept(Consumer<Socket> serve) {
        threads.execute(() -> {
            while (!closed) {
                Socket client;
                try {
                    client = listener.accept();
                } catch (IOException e) {
                    return; // closed
                }
                open.add(client);
                threads.execute(() -> {
                    try {
                        serve.accept(client);
                    } finally {
                        disconnect(client);
                    }
                });
            }
        });
    }

    int port() {
        return listener.getLocalPort();
    }

    boolean isClosed() {
        return closed;
    }

    /** Runs {@code task} on a thread of the proxy's own. */
    void execute(Runnable task) {
        threads.execute(task);
    }

    /** Opens a connection to the server, which closing the proxy closes too. */
    Socket connect(InetAddress host, int port) throws IOException {
        Socket server = new Socket(host, port);
        open.add(server);
        return server;
    }

    /**
     * Copies bytes from one socket to the other, each piece once {@code watch} passed it, until either
     * closes or the watch drops a piece; then closes both.
     */
    void pump(Socket from, Socket to, Watch watch) {
        byte[] buffer = new byte[64 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int read; (read = in.read(buffer)) >= 0; ) {
                if (!watch.pass(buffer, read)) {
                    return;
                }
                out.write(buffer, 0, read);
                out.flush();
            }
        } catch (IOException e) {
            // One side went away: the connection ends.
        } finally {
            disconnect(from);
            disconnect(to);
        }
    }

    /** Closes the connection, if it is not closed yet. */
    void disconnect(Socket socket) {
        open.remove(socket);
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing is all that was left to do.
        }
    }

    /** Closes the listener and every connection. */
    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // Nothing to do about it.
        }
        open.forEach(this::disconnect);
        threads.shutdownNow();
    }
}
