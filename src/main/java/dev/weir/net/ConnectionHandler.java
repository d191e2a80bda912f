package dev.weir.net;

import dev.weir.runtime.FatalErrors;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultFileRegion;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection. Requests are handed to the processor in arrival order and may complete in
 * any order; responses are written strictly in request order, as Kafka clients require. The
 * connection stops reading its socket while {@code maxInFlight} requests are in progress, while its
 * outbound buffer is above the high-water mark or while its share of response memory is spent, so a
 * slow or flooding client cannot make the broker buffer without bound; the request bytes of all
 * connections together are bounded by {@link RequestMemory}. A connection with nothing in progress
 * and no byte read or written for {@code connections.max.idle.ms} is closed, as is one whose response
 * cannot be written. All state is confined to the channel's event loop.
 */
final class ConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionHandler.class);
    private static final Object NO_RESPONSE = new Object();

    private final FrameProcessor processor;
    private final int maxInFlight;
    private final RequestMemory memory;
    private final ReadGate gate;
    private final MemoryBudget responseMemory;
    private final long maxIdleMs;
    private final Map<Long, Object> completed = new HashMap<>();
    private FrameProcessor.Connection connection;
    private long nextSequence;
    private long nextToWrite;
    private int inFlight;
    private boolean closing;

    ConnectionHandler(FrameProcessor processor, int maxInFlight, RequestMemory memory, ReadGate gate,
                      MemoryBudget responseMemory, long maxIdleMs) {
        this.processor = processor;
        this.maxInFlight = maxInFlight;
        this.memory = memory;
        this.gate = gate;
        this.responseMemory = responseMemory;
        this.maxIdleMs = maxIdleMs;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        Channel channel = ctx.channel();
        connection = new FrameProcessor.Connection(channel.id().asShortText(),
            (InetSocketAddress) channel.remoteAddress(), (InetSocketAddress) channel.localAddress(), responseMemory);
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object message) {
        FrameDecoder.Frame frame = (FrameDecoder.Frame) message;
        if (closing) {
            memory.release(frame.reservedBytes());
            return;
        }
        long sequence = nextSequence++;
        inFlight++;
        updateAutoRead(ctx);
        CompletableFuture<FrameProcessor.Response> response;
        try {
            response = processor.process(frame.bytes(), connection);
        } catch (RuntimeException e) {
            response = CompletableFuture.failedFuture(e);
        }
        if (response.isDone()) {
            completed(ctx, sequence, response, frame.reservedBytes());
        } else {
            CompletableFuture<FrameProcessor.Response> pending = response;
            response.whenComplete((ignored, error) -> ctx.executor().execute(
                () -> completed(ctx, sequence, pending, frame.reservedBytes())));
        }
    }

    private void completed(ChannelHandlerContext ctx, long sequence, CompletableFuture<FrameProcessor.Response> response,
                           int reservedBytes) {
        inFlight--;
        memory.release(reservedBytes);
        Object result;
        try {
            FrameProcessor.Response body = response.join();
            result = body == null ? NO_RESPONSE : body;
        } catch (CompletionException | java.util.concurrent.CancellationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            closeWithReason(ctx, cause);
            return;
        }
        if (closing) {
            afterWrite(result);
            return;
        }
        completed.put(sequence, result);
        boolean wrote = false;
        Object next;
        while ((next = completed.remove(nextToWrite)) != null) {
            nextToWrite++;
            if (next != NO_RESPONSE) {
                write(ctx, (FrameProcessor.Response) next);
                wrote = true;
            }
        }
        if (wrote) {
            ctx.flush();
        }
        updateAutoRead(ctx);
    }

    /**
     * Writes a response's parts: bytes in direct memory as they are, runs of heap bytes (the header and
     * fields kafka-clients serialised) copied once into one pooled direct buffer, file ranges as file
     * regions (sendfile). The socket would copy heap bytes itself, and a composite of heap and direct
     * buffers whole, so nothing is copied twice. A write that fails closes the connection.
     */
    private void write(ChannelHandlerContext ctx, FrameProcessor.Response answer) {
        ChannelFutureListener failed = written -> {
            if (!written.isSuccess()) {
                FatalErrors.haltIfFatal(written.cause());
                closeWithReason(ctx, new ResponseWriteException(written.cause()));
            }
        };
        List<Object> messages = messages(ctx, answer.parts());
        for (int i = 0; i < messages.size() - 1; i++) {
            ctx.write(messages.get(i)).addListener(failed);
        }
        // Borrowed buffers and files go back only once the bytes have left (or can no longer leave): writes
        // complete in order, and a failure fails every later write, so the last one's outcome covers them all.
        ctx.write(messages.get(messages.size() - 1)).addListener((ChannelFutureListener) written -> {
            answer.afterWrite().run();
            failed.operationComplete(written);
            updateAutoRead(ctx);
        });
    }

    /** The response's parts as Netty messages, each run of heap parts joined into one direct buffer. */
    private static List<Object> messages(ChannelHandlerContext ctx, List<ResponsePart> parts) {
        List<Object> messages = new ArrayList<>(parts.size());
        List<ByteBuffer> heapRun = new ArrayList<>();
        for (ResponsePart part : parts) {
            if (part instanceof ResponsePart.Bytes bytes && !bytes.buffer().isDirect()) {
                heapRun.add(bytes.buffer());
                continue;
            }
            if (!heapRun.isEmpty()) {
                messages.add(copyToDirect(ctx, heapRun));
            }
            messages.add(part instanceof ResponsePart.FileRange range
                ? new BorrowedFileRegion(range.channel(), range.position(), range.count())
                : Unpooled.wrappedBuffer(((ResponsePart.Bytes) part).buffer()));
        }
        if (!heapRun.isEmpty()) {
            messages.add(copyToDirect(ctx, heapRun));
        }
        return messages;
    }

    private static ByteBuf copyToDirect(ChannelHandlerContext ctx, List<ByteBuffer> buffers) {
        int bytes = 0;
        for (ByteBuffer buffer : buffers) {
            bytes += buffer.remaining();
        }
        ByteBuf direct = ctx.alloc().directBuffer(bytes);
        for (ByteBuffer buffer : buffers) {
            direct.writeBytes(buffer.duplicate());
        }
        buffers.clear();
        return direct;
    }

    /** A response that could not be written to the socket. */
    private static final class ResponseWriteException extends RuntimeException {
        ResponseWriteException(Throwable cause) {
            super("writing a response failed: " + cause, cause);
        }
    }

    /** A file region whose channel belongs to the response, which closes it after the write. */
    private static final class BorrowedFileRegion extends DefaultFileRegion {
        BorrowedFileRegion(FileChannel channel, long position, long count) {
            super(channel, position, count);
        }

        @Override
        protected void deallocate() {
            // Not closed here: several regions may share the channel.
        }
    }

    private static void afterWrite(Object result) {
        if (result instanceof FrameProcessor.Response answer) {
            answer.afterWrite().run();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        closing = true;
        completed.values().forEach(ConnectionHandler::afterWrite);
        completed.clear();
        super.channelInactive(ctx);
    }

    private void updateAutoRead(ChannelHandlerContext ctx) {
        gate.tooManyInFlight(ctx.channel(), closing || inFlight >= maxInFlight
            || responseMemory.usedBytes() >= responseMemory.capacityBytes());
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof IdleStateEvent idle && idle.state() == IdleState.ALL_IDLE && inFlight == 0 && !closing) {
            LOG.debug("Closing connection {} from {}: nothing read or written for {} ms (connections.max.idle.ms)",
                connection.id(), connection.remote(), maxIdleMs);
            closing = true;
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        updateAutoRead(ctx);
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable reason = cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null
            ? cause.getCause() : cause;
        closeWithReason(ctx, reason);
    }

    private void closeWithReason(ChannelHandlerContext ctx, Throwable reason) {
        FatalErrors.haltIfFatal(reason);
        if (closing) {
            return;
        }
        closing = true;
        if (reason instanceof CloseConnectionException) {
            LOG.warn("Closing connection {} from {}: {}", connection.id(), connection.remote(), reason.getMessage());
        } else if (reason instanceof IOException) {
            LOG.debug("Connection {} from {} failed: {}", connection.id(), connection.remote(), reason.toString());
        } else if (reason instanceof ResponseWriteException && reason.getCause() instanceof IOException) {
            LOG.info("Closing connection {} from {}: {}", connection.id(), connection.remote(), reason.getMessage());
        } else {
            LOG.error("Closing connection {} from {} after an unexpected error", connection.id(), connection.remote(), reason);
        }
        ctx.close();
    }
}
