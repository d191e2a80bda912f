package dev.weir.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import dev.weir.net.MemoryBudget;
import org.apache.kafka.common.requests.RequestContext;

/**
 * What a handler knows of a request besides its body: Kafka's request context and the arrival time,
 * and the buffers its response borrows, which are given back once the response has been written.
 */
public final class RequestScope {
    private final RequestContext context;
    private final long receivedMs;
    private final MemoryBudget responseMemory;
    private final List<Runnable> afterWrite = new ArrayList<>();

    public RequestScope(RequestContext context, long receivedMs, MemoryBudget responseMemory) {
        this.context = context;
        this.receivedMs = receivedMs;
        this.responseMemory = responseMemory;
    }

    /**
     * The connection's share of the broker's memory for unwritten responses: reserve before allocating
     * a buffer the response holds (and release it with the buffer, through {@link #borrow}).
     */
    public MemoryBudget responseMemory() {
        return responseMemory;
    }

    public RequestContext context() {
        return context;
    }

    public long receivedMs() {
        return receivedMs;
    }

    public short apiVersion() {
        return context.apiVersion();
    }

    /** Registers a buffer the response uses; {@code release} gets it back once the response is written. */
    public synchronized ByteBuffer borrow(ByteBuffer buffer, Consumer<ByteBuffer> release) {
        afterWrite.add(() -> release.accept(buffer));
        return buffer;
    }

    /** Registers something the response uses (a file it sends from); it is closed once the response is written. */
    public synchronized void closeAfterWrite(AutoCloseable resource) {
        afterWrite.add(() -> {
            try {
                resource.close();
            } catch (Exception e) {
                org.slf4j.LoggerFactory.getLogger(RequestScope.class).warn("Closing {} after a response failed", resource, e);
            }
        });
    }

    /** Gives back every borrowed buffer: the response was written, or will never be. */
    synchronized void releaseAll() {
        afterWrite.forEach(Runnable::run);
        afterWrite.clear();
    }
}
