package dev.weir.testing;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback forwarder in front of a broker that keeps every Kafka frame passing through it, both
 * ways: clients connect to {@link #port()}, it connects on to the broker and copies frames, size
 * prefix and all, noting each. For the clients to stay on it, the broker must advertise this port.
 * A thread per direction and connection; thread-safe.
 */
public final class FrameRecorder implements AutoCloseable {
    /** A frame's bytes after its size prefix; {@code connection} numbers the connections from 0. */
    public record Frame(int connection, boolean fromClient, byte[] bytes) {
    }

    private final ServerSocket server;
    private final List<Frame> frames = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private volatile int brokerPort = -1;

    public FrameRecorder() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "frame-recorder-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Where to forward to; set before the first client connects. */
    public void forwardTo(int port) {
        brokerPort = port;
    }

    public List<Frame> frames() {
        return new ArrayList<>(frames);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket broker = new Socket(InetAddress.getLoopbackAddress(), brokerPort);
                sockets.add(client);
                sockets.add(broker);
                int connection = connections.getAndIncrement();
                copy(connection, true, client, broker);
                copy(connection, false, broker, client);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void copy(int connection, boolean fromClient, Socket from, Socket to) {
        Thread thread = new Thread(() -> {
            try (DataInputStream in = new DataInputStream(from.getInputStream());
                 DataOutputStream out = new DataOutputStream(to.getOutputStream())) {
                while (true) {
                    int size = in.readInt();
                    byte[] bytes = new byte[size];
                    in.readFully(bytes);
                    frames.add(new Frame(connection, fromClient, bytes));
                    out.writeInt(size);
                    out.write(bytes);
                    out.flush();
                }
            } catch (IOException e) {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "frame-recorder-" + connection + (fromClient ? "-in" : "-out"));
        thread.setDaemon(true);
        thread.start();
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing is all that is left to do.
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        sockets.forEach(FrameRecorder::closeQuietly);
    }
}
