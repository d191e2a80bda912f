package dev.weir.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Kafka framing: a 4-byte big-endian size, then that many bytes. A size below 1 or above
 * {@code socket.request.max.bytes} closes the connection before any of the frame is buffered, so a
 * peer cannot make the broker allocate more than the limit. A frame's bytes are reserved from the
 * broker-wide {@link RequestMemory} before its array is allocated, and arriving bytes are copied into
 * that array at once; while the budget is spent the connection stops reading (and what it read
 * meanwhile waits in Netty's buffer). Emits each frame as a {@link Frame}.
 */
final class FrameDecoder extends ByteToMessageDecoder {
    /** A decoded frame and the request memory it holds until its request is answered. */
    record Frame(ByteBuffer bytes, int reservedBytes) {
    }

    private final int maxFrameBytes;
    private final RequestMemory memory;
    private final ReadGate gate;
    /** The request memory held by the frame being read, and its bytes so far. */
    private int reservedForNext;
    private byte[] frame;
    private int filled;

    FrameDecoder(int maxFrameBytes, RequestMemory memory, ReadGate gate) {
        this.maxFrameBytes = maxFrameBytes;
        this.memory = memory;
        this.gate = gate;
    }

    /** Memory was released: decode what is already buffered (no new bytes may come) and read again. */
    private void resume(ChannelHandlerContext ctx) {
        ctx.executor().execute(() -> {
            if (!ctx.channel().isActive()) {
                return;
            }
            gate.waitingForMemory(ctx.channel(), false);
            ctx.channel().pipeline().fireChannelRead(Unpooled.EMPTY_BUFFER);
        });
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        if (reservedForNext > 0) {
            memory.release(reservedForNext);
            reservedForNext = 0;
            frame = null;
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            if (frame != null) {
                // Bytes go straight into the frame as they arrive: nothing is left in the decoder's buffer,
                // so Netty never copies a large request into a cumulation buffer first.
                int take = Math.min(in.readableBytes(), frame.length - filled);
                in.readBytes(frame, filled, take);
                filled += take;
                if (filled < frame.length) {
                    return;
                }
                out.add(new Frame(ByteBuffer.wrap(frame), reservedForNext));
                frame = null;
                reservedForNext = 0;
            }
            if (in.readableBytes() < 4) {
                return;
            }
            int size = in.getInt(in.readerIndex());
            if (size <= 0 || size > maxFrameBytes) {
                in.skipBytes(in.readableBytes());
                throw new CloseConnectionException("Frame size " + size + " is outside 1.." + maxFrameBytes
                    + " (socket.request.max.bytes)");
            }
            if (!memory.tryReserve(size, () -> resume(ctx))) {
                gate.waitingForMemory(ctx.channel(), true);
                return;
            }
            reservedForNext = size;
            in.skipBytes(4);
            frame = new byte[size];
            filled = 0;
        }
    }
}
