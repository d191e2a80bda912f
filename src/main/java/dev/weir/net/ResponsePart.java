package dev.weir.net;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * A piece of a response frame: bytes in memory, or a range of a file that is sent to the socket
 * without passing through the process (sendfile). The file channel stays the responder's: it is
 * not closed here, and must stay open until the response's after-write action runs.
 */
public sealed interface ResponsePart permits ResponsePart.Bytes, ResponsePart.FileRange {
    long size();

    record Bytes(ByteBuffer buffer) implements ResponsePart {
        @Override
        public long size() {
            return buffer.remaining();
        }
    }

    record FileRange(FileChannel channel, long position, long count) implements ResponsePart {
        @Override
        public long size() {
            return count;
        }
    }
}
