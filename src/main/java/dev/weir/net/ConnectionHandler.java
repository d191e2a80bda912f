package dev.weir.net;

import dev.weir.runtime.FatalErrors;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultFileRegion;
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
 * connection stops reading its socket while {@code maxInFlight} requests are in progress or while
 * its outbound buffer is above the high-water mark, so a slow or flooding client cannot make the
 * broker buffer without bound; the request bytes of all connections together are bounded by
 * {@link RequestMemory}. All state is confined to the channel's event loop.
 */
final class ConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionHandler.class);
    private static final Object NO_RESPONSE = new Object();

    private final FrameProcessor processor;
    private final int maxInFlight;
    private final RequestMemory memory;
    private final ReadGate gate;
    private final Map<Long, Object> completed = new HashMap<>();
    private FrameProcessor.Connection connection;
    private long nextSequence;
    private long nextToWrite;
    private int inFlight;
    private boolean closing;

    ConnectionHandler(FrameProcessor processor, int maxInFlight, RequestMemory memory, ReadGate gate) {
        this.processor = processor;
        this.maxInFlight = maxInFlight;
        this.memory = memory;
        this.gate = gate;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        Channel channel = ctx.channel();
        connection = new FrameProcessor.Connection(channel.id().asShortText(),
            (InetSocketAddress) channel.remoteAddress(), (InetSocketAddress) channel.localAddress());
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
                FrameProcessor.Response answer = (FrameProcessor.Response) next;
                // Borrowed buffers and files go back only once the bytes have left (or can no longer leave):
                // writes complete in order, so the last one's completion covers them all.
                write(ctx, answer.parts()).addListener(written -> answer.afterWrite().run());
                wrote = true;
            }
        }
        if (wrote) {
            ctx.flush();
        }
        updateAutoRead(ctx);
    }

    /** Writes runs of buffers as one composite buffer and file ranges as file regions (sendfile). */
    private static ChannelFuture write(ChannelHandlerContext ctx, List<ResponsePart> parts) {
        ChannelFuture last = null;
        List<java.nio.ByteBuffer> run = new ArrayList<>();
        for (ResponsePart part : parts) {
            if (part instanceof ResponsePart.Bytes bytes) {
                run.add(bytes.buffer());
            } else if (part instanceof ResponsePart.FileRange range) {
                if (!run.isEmpty()) {
                    ctx.write(Unpooled.wrappedBuffer(run.toArray(java.nio.ByteBuffer[]::new)));
                    run.clear();
                }
                last = ctx.write(new BorrowedFileRegion(range.channel(), range.position(), range.count()));
            }
        }
        if (!run.isEmpty() || last == null) {
            last = ctx.write(Unpooled.wrappedBuffer(run.toArray(java.nio.ByteBuffer[]::new)));
        }
        return last;
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
        gate.tooManyInFlight(ctx.channel(), closing || inFlight >= maxInFlight);
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
        } else {
            LOG.error("Closing connection {} from {} after an unexpected error", connection.id(), connection.remote(), reason);
        }
        ctx.close();
    }
}
