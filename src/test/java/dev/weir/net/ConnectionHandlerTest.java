package dev.weir.net;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The connection handler in a real Netty pipeline, with the socket's side played by an outbound
 * handler: what happens to a response whose write fails, and how a response's parts reach the socket.
 */
class ConnectionHandlerTest {
    private final Logger log = (Logger) LoggerFactory.getLogger(ConnectionHandler.class);
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

    @BeforeEach
    void captureLog() {
        logged.start();
        log.addAppender(logged);
    }

    @AfterEach
    void releaseLog() {
        log.detachAppender(logged);
    }

    /** A response of a heap header, a direct body and a heap trailer, as a fetch answer is built. */
    private static FrameProcessor.Response response(AtomicInteger afterWrites) {
        ByteBuffer body = ByteBuffer.allocateDirect(100);
        ByteBuffer header = ByteBuffer.allocate(8).putInt(100 + 8 + 4).putInt(42).flip();
        ByteBuffer trailer = ByteBuffer.allocate(4).putInt(7).flip();
        return new FrameProcessor.Response(List.of(new ResponsePart.Bytes(header), new ResponsePart.Bytes(body),
            new ResponsePart.Bytes(trailer)), afterWrites::incrementAndGet);
    }

    private static EmbeddedChannel channel(ChannelOutboundHandlerAdapter socket, FrameProcessor.Response answer) {
        FrameProcessor processor = (frame, connection) -> CompletableFuture.completedFuture(answer);
        ConnectionHandler handler = new ConnectionHandler(processor, 8, new RequestMemory(1 << 20), new ReadGate(),
            new MemoryBudget(1 << 20), 600_000);
        return new EmbeddedChannel(socket, handler) {
            @Override
            protected SocketAddress localAddress0() {
                return new InetSocketAddress("127.0.0.1", 9092);
            }

            @Override
            protected SocketAddress remoteAddress0() {
                return new InetSocketAddress("127.0.0.1", 40000);
            }
        };
    }

    @Test
    void aResponseWhoseWriteFailsClosesTheConnectionWithALogLine() {
        AtomicInteger afterWrites = new AtomicInteger();
        EmbeddedChannel channel = channel(new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object message, ChannelPromise promise) {
                ReferenceCountUtil.release(message);
                promise.setFailure(new OutOfMemoryErrorStandIn());
            }
        }, response(afterWrites));
        channel.writeInbound(new FrameDecoder.Frame(ByteBuffer.allocate(8), 0));
        channel.runPendingTasks();
        assertThat(channel.isOpen()).as("connection open after a failed write").isFalse();
        assertThat(afterWrites).hasValue(1);
        assertThat(logged.list).anySatisfy(event -> assertThat(event.getFormattedMessage())
            .contains("Closing connection").contains("writing a response failed"));
    }

    @Test
    void heapPartsAreJoinedIntoOneDirectBufferAndDirectPartsAreSentAsTheyAre() {
        AtomicInteger afterWrites = new AtomicInteger();
        List<Boolean> directness = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        EmbeddedChannel channel = channel(new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object message, ChannelPromise promise) {
                ByteBuf buffer = (ByteBuf) message;
                directness.add(buffer.isDirect());
                sizes.add(buffer.readableBytes());
                buffer.release();
                promise.setSuccess();
            }
        }, response(afterWrites));
        channel.writeInbound(new FrameDecoder.Frame(ByteBuffer.allocate(8), 0));
        channel.runPendingTasks();
        assertThat(sizes).containsExactly(8, 100, 4);
        assertThat(directness).containsOnly(true);
        assertThat(afterWrites).hasValue(1);
        assertThat(channel.isOpen()).isTrue();
    }

    /** What the socket's copy of a response failed with, as an exception a test may throw. */
    private static final class OutOfMemoryErrorStandIn extends IOException {
        OutOfMemoryErrorStandIn() {
            super("Cannot reserve 8388608 bytes of direct buffer memory");
        }
    }
}
