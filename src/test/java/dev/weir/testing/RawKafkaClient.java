package dev.weir.testing;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestHeader;

/**
 * A blocking one-request-at-a-time Kafka connection for tests that need requests no client sends
 * (bad batches, odd versions). Encodes and decodes with kafka-clients' own classes.
 */
public final class RawKafkaClient implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private int correlationId;

    public RawKafkaClient(int port) throws IOException {
        this(port, java.time.Duration.ofSeconds(30));
    }

    /** A connection whose reads give up after {@code readTimeout} with a SocketTimeoutException. */
    public RawKafkaClient(int port, java.time.Duration readTimeout) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout((int) readTimeout.toMillis());
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
    }

    public AbstractResponse send(AbstractRequest request) throws IOException {
        RequestHeader header = new RequestHeader(request.apiKey(), request.version(), "raw-test", ++correlationId);
        ByteBuffer frame = request.serializeWithHeader(header);
        out.writeInt(frame.remaining());
        out.write(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining());
        out.flush();
        int size = in.readInt();
        byte[] body = new byte[size];
        in.readFully(body);
        return AbstractResponse.parseResponse(ByteBuffer.wrap(body), header);
    }

    /**
     * Sends {@code count} requests back to back, as a client pipelines them, and hands each answer to
     * {@code answers} in order. A thread of its own writes while this one reads, so that neither side
     * waits on the other's socket buffer; requests are built as they are sent, so a flood of large
     * requests is never all in memory at once.
     */
    public void sendAll(int count, IntFunction<AbstractRequest> requests, Consumer<AbstractResponse> answers)
        throws IOException, InterruptedException {
        List<RequestHeader> headers = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            AbstractRequest request = requests.apply(i);
            headers.add(new RequestHeader(request.apiKey(), request.version(), "raw-test", ++correlationId));
        }
        AtomicReference<IOException> writeFailure = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                for (int i = 0; i < count; i++) {
                    ByteBuffer frame = requests.apply(i).serializeWithHeader(headers.get(i));
                    out.writeInt(frame.remaining());
                    out.write(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining());
                }
                out.flush();
            } catch (IOException e) {
                writeFailure.set(e);
            }
        }, "raw-kafka-client-writer");
        writer.start();
        try {
            for (RequestHeader header : headers) {
                int size = in.readInt();
                byte[] body = new byte[size];
                in.readFully(body);
                answers.accept(AbstractResponse.parseResponse(ByteBuffer.wrap(body), header));
            }
        } catch (IOException | RuntimeException e) {
            socket.close(); // so that a writer blocked on a broker that stopped reading gives up too
            throw e;
        } finally {
            writer.join();
        }
        if (writeFailure.get() != null) {
            throw writeFailure.get();
        }
    }

    /** Sends a request that gets no response (a produce with acks=0). */
    public void sendWithoutResponse(AbstractRequest request) throws IOException {
        RequestHeader header = new RequestHeader(request.apiKey(), request.version(), "raw-test", ++correlationId);
        ByteBuffer frame = request.serializeWithHeader(header);
        out.writeInt(frame.remaining());
        out.write(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining());
        out.flush();
    }

    /** True when the broker closes the connection (end of stream or reset) before the read timeout. */
    public boolean readUntilClosed() throws IOException {
        try {
            while (in.read() >= 0) {
                // Nothing is expected; any bytes are skipped.
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
