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
 * broker-wide {@link RequestMemory} before they are buffered; while the budget is spent the
 * connection stops reading. Emits each frame as a {@link Frame}.
 */
final class FrameDecoder extends ByteToMessageDecoder {
    /** A decoded frame and the request memory it holds until its request is answered. */
    record Frame(ByteBuffer bytes, int reservedBytes) {
    }

    private final int maxFrameBytes;
    private final RequestMemory memory;
    private final ReadGate gate;
    private int reservedForNext;

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
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.readableBytes() >= 4) {
            int size = in.getInt(in.readerIndex());
            if (size <= 0 || size > maxFrameBytes) {
                in.skipBytes(in.readableBytes());
                throw new CloseConnectionException("Frame size " + size + " is outside 1.." + maxFrameBytes
                    + " (socket.request.max.bytes)");
            }
            if (reservedForNext == 0) {
                if (!memory.tryReserve(size, () -> resume(ctx))) {
                    gate.waitingForMemory(ctx.channel(), true);
                    return;
                }
                reservedForNext = size;
            }
            if (in.readableBytes() < 4 + size) {
                return;
            }
            in.skipBytes(4);
            byte[] frame = new byte[size];
            in.readBytes(frame);
            reservedForNext = 0;
            out.add(new Frame(ByteBuffer.wrap(frame), size));
        }
    }
}
