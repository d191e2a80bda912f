package dev.weir.log.read;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.List;
import org.apache.kafka.common.network.TransferableChannel;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.RecordsSend;

/**
 * Record batches of a fetch as a sequence of parts: bytes in memory (patched headers, small batches
 * read and checked) and ranges of object files that the network layer sends without copying them
 * (sendfile), as Kafka's FileRecords are. Immutable; the files must stay open until it is written.
 */
public final class SendableRecords implements BaseRecords {
    /** One part: a buffer, or {@code length} bytes of {@code file} from {@code position}. */
    public record Part(ByteBuffer buffer, FileChannel file, long position, int length) {
        static Part bytes(ByteBuffer buffer) {
            return new Part(buffer, null, 0, buffer.remaining());
        }

        static Part file(FileChannel file, long position, int length) {
            return new Part(null, file, position, length);
        }
    }

    private final List<Part> parts;
    private final int sizeInBytes;

    public SendableRecords(List<Part> parts) {
        this.parts = List.copyOf(parts);
        int bytes = 0;
        for (Part part : this.parts) {
            bytes += part.length();
        }
        this.sizeInBytes = bytes;
    }

    public List<Part> parts() {
        return parts;
    }

    @Override
    public int sizeInBytes() {
        return sizeInBytes;
    }

    @Override
    public RecordsSend<SendableRecords> toSend() {
        return new RecordsSend<>(this, sizeInBytes) {
            private int next;
            private long writtenOfNext;

            @Override
            protected int writeTo(TransferableChannel channel, int previouslyWritten, int remaining) throws IOException {
                int written = 0;
                while (next < parts.size()) {
                    Part part = parts.get(next);
                    long moved;
                    if (part.buffer() != null) {
                        moved = channel.write(part.buffer().duplicate().position(part.buffer().position() + (int) writtenOfNext));
                    } else {
                        moved = channel.transferFrom(part.file(), part.position() + writtenOfNext, part.length() - writtenOfNext);
                    }
                    written += (int) moved;
                    writtenOfNext += moved;
                    if (writtenOfNext < part.length()) {
                        break;
                    }
                    next++;
                    writtenOfNext = 0;
                }
                return written;
            }
        };
    }
}
