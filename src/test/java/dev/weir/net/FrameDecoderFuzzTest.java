package dev.weir.net;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Kafka framing against any bytes, arriving in any pieces: the decoder emits exactly the frames that
 * reading the size prefixes one after another gives, in order, and closes the connection with a
 * {@link CloseConnectionException} at the first size outside 1..max, never with another exception;
 * every byte of request memory it reserved is given back once the frames are answered and the
 * connection is gone. Only the decoder's public behaviour is checked (bytes in, frames or the close
 * out), so how and when it reserves memory may change without touching this test.
 *
 * <p>Input, read with {@link FuzzedDataProvider} (which takes numbers from the end of the input and
 * bytes from the front): a frame-size limit and a request-memory budget, each picked from a few, then
 * pieces of the byte stream, each a length (0: all that is left) and that many bytes. The seeds are
 * connections recorded from the Java clients, written by {@link #seed} so that every choice is its
 * first, natural one: a 1 MiB limit, a budget larger than any frame, the whole stream in one piece.
 */
public class FrameDecoderFuzzTest {
    /** Frame-size limits: large enough for every recorded frame first, then small ones. */
    private static final int[] MAX_FRAME_BYTES = {1 << 20, 16 * 1024, 100, 1};
    /** Request-memory budgets: larger than any frame first, then ones that make the decoder wait. */
    private static final long[] MEMORY_BYTES = {64L << 20, 1, 100, 4096};
    private static final int MAX_PIECE_BYTES = 4096;
    /** Bytes the first choices take from the end of the input: limit, budget, first piece's length. */
    private static final int DEFAULT_CHOICE_BYTES = 1 + 1 + 2;

    /** A fuzz input that feeds {@code stream} to the decoder whole, with the default limit and budget. */
    public static byte[] seed(byte[] stream) {
        return Arrays.copyOf(stream, stream.length + DEFAULT_CHOICE_BYTES);
    }

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void frames(FuzzedDataProvider data) {
        int maxFrameBytes = MAX_FRAME_BYTES[data.consumeInt(0, MAX_FRAME_BYTES.length - 1)];
        Connection connection = new Connection(maxFrameBytes, MEMORY_BYTES[data.consumeInt(0, MEMORY_BYTES.length - 1)]);
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        while (data.remainingBytes() > 0 && connection.closed == null) {
            int length = data.consumeInt(0, MAX_PIECE_BYTES);
            byte[] piece = length == 0 ? data.consumeRemainingAsBytes() : data.consumeBytes(length);
            sent.writeBytes(piece);
            connection.deliver(piece);
        }
        connection.close();

        Framing expected = Framing.read(sent.toByteArray(), maxFrameBytes);
        if (!connection.received.equals(expected.frames)) {
            throw new AssertionError("frames out " + sizes(connection.received) + ", expected " + sizes(expected.frames));
        }
        if ((connection.closed != null) != expected.badSize) {
            throw new AssertionError("closed: " + connection.closed + ", expected a close: " + expected.badSize);
        }
        if (connection.memory.usedBytes() != 0) {
            throw new AssertionError(connection.memory.usedBytes() + " bytes of request memory still held");
        }
    }

    private static List<Integer> sizes(List<ByteBuffer> frames) {
        return frames.stream().map(ByteBuffer::remaining).toList();
    }

    /** A decoder in an embedded channel, answering every frame as soon as it comes out. */
    private static final class Connection {
        final RequestMemory memory;
        final EmbeddedChannel channel;
        final List<ByteBuffer> received = new ArrayList<>();
        CloseConnectionException closed;

        Connection(int maxFrameBytes, long memoryBytes) {
            memory = new RequestMemory(memoryBytes);
            channel = new EmbeddedChannel(newDecoder(maxFrameBytes, memory));
        }

        /** The one place that knows the decoder's constructor. */
        private static FrameDecoder newDecoder(int maxFrameBytes, RequestMemory memory) {
            return new FrameDecoder(maxFrameBytes, 30_000, memory, new ReadGate());
        }

        /**
         * Writes a piece, then answers what came out (giving its memory back) and runs what the decoder
         * scheduled meanwhile, until nothing more comes: a decoder that waits for memory catches up
         * before the next piece.
         */
        void deliver(byte[] piece) {
            try {
                channel.writeInbound(Unpooled.wrappedBuffer(piece));
                do {
                    channel.runPendingTasks();
                    channel.checkException();
                } while (answerFrames() > 0);
            } catch (RuntimeException e) {
                closedBy(e);
            }
        }

        /** Closes the channel, as the connection handler does after a close or when the peer goes away. */
        void close() {
            try {
                channel.finish();
            } catch (RuntimeException e) {
                closedBy(e);
            }
            answerFrames();
        }

        private void closedBy(RuntimeException e) {
            Throwable cause = e instanceof DecoderException && e.getCause() != null ? e.getCause() : e;
            if (!(cause instanceof CloseConnectionException close)) {
                throw e;
            }
            if (closed == null) {
                closed = close;
            }
            answerFrames();
        }

        /** Takes every frame decoded so far and releases its memory; returns how many there were. */
        private int answerFrames() {
            int count = 0;
            FrameDecoder.Frame frame;
            while ((frame = channel.readInbound()) != null) {
                received.add(frame.bytes().duplicate());
                memory.release(frame.reservedBytes());
                count++;
            }
            return count;
        }
    }

    /** The reference reading: size prefixes one after another, up to the first bad size or the end of the bytes. */
    private record Framing(List<ByteBuffer> frames, boolean badSize) {
        static Framing read(byte[] stream, int maxFrameBytes) {
            ByteBuffer bytes = ByteBuffer.wrap(stream);
            List<ByteBuffer> frames = new ArrayList<>();
            while (bytes.remaining() >= Integer.BYTES) {
                int size = bytes.getInt(bytes.position());
                if (size <= 0 || size > maxFrameBytes) {
                    return new Framing(frames, true);
                }
                if (bytes.remaining() - Integer.BYTES < size) {
                    break;
                }
                bytes.position(bytes.position() + Integer.BYTES);
                frames.add(bytes.slice().limit(size));
                bytes.position(bytes.position() + size);
            }
            return new Framing(frames, false);
        }
    }
}
