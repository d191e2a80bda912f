package dev.weir.net;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * Turns one request frame (its bytes after the 4-byte size) into the response frame (the parts to
 * write in order, size prefix included), or into no response (a produce with acks=0). Called on the connection's event-loop thread, in arrival order;
 * must not block. A frame that cannot be understood throws (or completes with)
 * {@link CloseConnectionException}, which closes that one connection.
 */
public interface FrameProcessor {
    CompletableFuture<Response> process(ByteBuffer frame, Connection connection);

    /** A response's parts, and what to run once they are written (or will never be). */
    record Response(java.util.List<ResponsePart> parts, Runnable afterWrite) {
    }

    /**
     * What the processor may know of the connection, and its share of the broker's memory for responses
     * that are built and not yet written (reserved before a response's buffers are allocated, released
     * by the response's after-write action).
     */
    record Connection(String id, InetSocketAddress remote, InetSocketAddress local, MemoryBudget responseMemory) {
    }
}
