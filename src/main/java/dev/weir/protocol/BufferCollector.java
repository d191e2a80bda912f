package dev.weir.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import dev.weir.net.ResponsePart;
import org.apache.kafka.common.network.Send;
import org.apache.kafka.common.network.TransferableChannel;

/**
 * Turns a kafka-clients {@link Send} into the list of parts it is made of, without copying: record
 * batches in a response stay in the buffers they were read into, and file ranges stay in their files
 * (the network layer sends them with sendfile), so a fetch answer is not copied into one big array
 * before it is written. Not thread-safe; one per response.
 */
final class BufferCollector implements TransferableChannel {
    private final List<ResponsePart> parts = new ArrayList<>();

    /**
     * The parts of a response frame (size prefix included); throws {@link ResponseTooLargeException} when
     * its size does not fit the 4-byte size prefix, before anything is written.
     */
    static List<ResponsePart> collect(Send send) {
        if (send.size() - Integer.BYTES > Integer.MAX_VALUE || send.size() < Integer.BYTES) {
            throw new ResponseTooLargeException(send.size());
        }
        BufferCollector collector = new BufferCollector();
        try {
            while (!send.completed()) {
                send.writeTo(collector);
            }
        } catch (IOException e) {
            throw new IllegalStateException("collecting response buffers cannot fail", e);
        }
        checkFrameSize(collector.parts);
        return List.copyOf(collector.parts);
    }

    /** Checks that the size prefix counts exactly the bytes after it (an overflowed size would be negative). */
    private static void checkFrameSize(List<ResponsePart> parts) {
        long total = 0;
        for (ResponsePart part : parts) {
            total += part.size();
        }
        ByteBuffer first = parts.isEmpty() ? null : ((ResponsePart.Bytes) parts.get(0)).buffer();
        if (first == null || first.remaining() < Integer.BYTES
            || first.getInt(first.position()) != total - Integer.BYTES) {
            throw new ResponseTooLargeException(total);
        }
    }

    /** A response whose size a frame cannot carry; its connection is closed rather than sent a wrong size. */
    static final class ResponseTooLargeException extends RuntimeException {
        ResponseTooLargeException(long bytes) {
            super("a response of " + bytes + " bytes does not fit a Kafka frame (at most 2^31-1 bytes after the size)");
        }
    }

    @Override
    public long write(ByteBuffer[] sources, int offset, int length) {
        long total = 0;
        for (int i = offset; i < offset + length; i++) {
            total += write(sources[i]);
        }
        return total;
    }

    @Override
    public long write(ByteBuffer[] sources) {
        return write(sources, 0, sources.length);
    }

    @Override
    public int write(ByteBuffer source) {
        int remaining = source.remaining();
        if (remaining > 0) {
            parts.add(new ResponsePart.Bytes(source.slice()));
            source.position(source.limit());
        }
        return remaining;
    }

    @Override
    public boolean hasPendingWrites() {
        return false;
    }

    @Override
    public long transferFrom(FileChannel fileChannel, long position, long count) {
        if (count > 0) {
            parts.add(new ResponsePart.FileRange(fileChannel, position, count));
        }
        return count;
    }

    @Override
    public boolean isOpen() {
        return true;
    }

    @Override
    public void close() {
        parts.clear();
    }
}
