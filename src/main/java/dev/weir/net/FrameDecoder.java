package dev.weir.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Kafka framing: a 4-byte big-endian size, then that many bytes. A size below 1 or above
 * {@code socket.request.max.bytes} closes the connection before any of the frame is buffered, so a
 * peer cannot make the broker allocate more than the limit. Emits each frame as a heap ByteBuffer.
 */
final class FrameDecoder extends ByteToMessageDecoder {
    private final int maxFrameBytes;

    FrameDecoder(int maxFrameBytes) {
        this.maxFrameBytes = maxFrameBytes;
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
            if (in.readableBytes() < 4 + size) {
                return;
            }
            in.skipBytes(4);
            byte[] frame = new byte[size];
            in.readBytes(frame);
            out.add(ByteBuffer.wrap(frame));
        }
    }
}
