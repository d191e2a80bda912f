package dev.weir.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Kafka framing: a 4-byte big-endian size, then that many bytes. A size below 1 or above
 * {@code socket.request.max.bytes} closes the connection before any of the frame is buffered.
 *
 * <p>A frame's memory is reserved from the broker-wide {@link RequestMemory} as its bytes arrive, not
 * when its size is read: bytes are copied into chunks of at least {@value #MIN_CHUNK_BYTES} bytes (or
 * what is left of the frame), each reserved before it is allocated, so a peer that declares a large
 * frame and sends little of it holds little. A frame that arrived in one chunk is handed on as it is;
 * one of several chunks is joined into one array (the only copy, and only for frames that arrived in
 * pieces). While the budget is spent the connection stops reading (what it read meanwhile waits in
 * Netty's buffer) and is resumed when memory is released.
 *
 * <p>A peer that stops in the middle of a frame is closed when the connection's reader-idle event
 * fires (after {@code socket.request.stall.timeout.ms}), unless the broker itself stopped reading it
 * because the connection has too many requests in progress or unread responses; waiting for request
 * memory counts as stalling, so frames that hold the budget between them cannot wait on each other
 * forever. Confined to the channel's event loop. Emits each frame as a {@link Frame}.
 */
final class FrameDecoder extends ByteToMessageDecoder {
    /** The least a chunk of a frame reserves, so a peer sending a byte at a time cannot make many tiny arrays. */
    static final int MIN_CHUNK_BYTES = 8 * 1024;

    /** A decoded frame and the request memory it holds until its request is answered. */
    record Frame(ByteBuffer bytes, int reservedBytes) {
    }

    private final int maxFrameBytes;
    private final long stallTimeoutMs;
    private final RequestMemory memory;
    private final ReadGate gate;
    /** The size of the frame being read, or -1 between frames. */
    private int frameSize = -1;
    private int received;
    private int reserved;
    private final List<byte[]> fullChunks = new ArrayList<>();
    private byte[] chunk;
    private int chunkFilled;

    FrameDecoder(int maxFrameBytes, long stallTimeoutMs, RequestMemory memory, ReadGate gate) {
        this.maxFrameBytes = maxFrameBytes;
        this.stallTimeoutMs = stallTimeoutMs;
        this.memory = memory;
        this.gate = gate;
    }

    /** Whether part of a frame has been read and the rest has not. */
    boolean inFrame() {
        return frameSize >= 0;
    }

    /** Memory was released: decode what is already buffered (no new bytes may come) and read again. */
    private void resume(ChannelHandlerContext ctx) {
        ctx.executor().execute(() -> {
            if (!ctx.channel().isActive()) {
                return;
            }
            gate.waitingForMemory(ctx.channel(), false);
            // Straight to this decoder, not through the pipeline: the idle handler before it would count a read
            // that never completes and stop seeing the connection idle, or stalled, from then on.
            try {
                channelRead(ctx, Unpooled.EMPTY_BUFFER);
            } catch (Exception e) {
                ctx.fireExceptionCaught(e);
            }
        });
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        if (reserved > 0) {
            memory.release(reserved);
        }
        resetFrame();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof IdleStateEvent idle && idle.state() == IdleState.READER_IDLE && inFrame()
            && !gate.pausedByBroker(ctx.channel())) {
            throw new CloseConnectionException("Received " + received + " of a " + frameSize + "-byte request and then"
                + " nothing for " + stallTimeoutMs + " ms (socket.request.stall.timeout.ms)");
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            if (frameSize < 0) {
                if (in.readableBytes() < 4) {
                    return;
                }
                int size = in.readInt();
                if (size <= 0 || size > maxFrameBytes) {
                    in.skipBytes(in.readableBytes());
                    throw new CloseConnectionException("Frame size " + size + " is outside 1.." + maxFrameBytes
                        + " (socket.request.max.bytes)");
                }
                frameSize = size;
            }
            if (!fill(ctx, in)) {
                return;
            }
            out.add(new Frame(ByteBuffer.wrap(joinChunks()), reserved));
            reserved = 0;
            resetFrame();
        }
    }

    /** Copies buffered bytes into the frame's chunks; true once the frame is complete. */
    private boolean fill(ChannelHandlerContext ctx, ByteBuf in) {
        while (received < frameSize && in.isReadable()) {
            if (chunk == null || chunkFilled == chunk.length) {
                // The chunks' capacities add up to the frame's size exactly: each is filled before the next.
                int capacity = Math.min(frameSize - received, Math.max(in.readableBytes(), MIN_CHUNK_BYTES));
                if (!memory.tryReserve(capacity, reserved, () -> resume(ctx))) {
                    gate.waitingForMemory(ctx.channel(), true);
                    return false;
                }
                reserved += capacity;
                if (chunk != null) {
                    fullChunks.add(chunk);
                }
                chunk = new byte[capacity];
                chunkFilled = 0;
            }
            int take = Math.min(in.readableBytes(), chunk.length - chunkFilled);
            in.readBytes(chunk, chunkFilled, take);
            chunkFilled += take;
            received += take;
        }
        return received == frameSize;
    }

    private byte[] joinChunks() {
        if (fullChunks.isEmpty()) {
            return chunk;
        }
        byte[] frame = new byte[frameSize];
        int at = 0;
        for (byte[] full : fullChunks) {
            System.arraycopy(full, 0, frame, at, full.length);
            at += full.length;
        }
        System.arraycopy(chunk, 0, frame, at, chunkFilled);
        return frame;
    }

    private void resetFrame() {
        frameSize = -1;
        received = 0;
        fullChunks.clear();
        chunk = null;
        chunkFilled = 0;
    }
}
