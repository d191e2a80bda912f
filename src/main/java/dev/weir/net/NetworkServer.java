package dev.weir.net;

import dev.weir.runtime.FatalErrors;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka listener: accepts connections (at most {@code maxConnections}), frames requests and
 * hands them to the {@link FrameProcessor}. Uses native epoll where available.
 *
 * <p>Binding and serving are two steps, so that the broker knows its port while it starts (to
 * advertise it) and accepts no connection before it can answer: until {@link #serve} connections
 * wait in the listen backlog, and their clients see a slow first answer rather than a closed
 * connection.
 */
public final class NetworkServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NetworkServer.class);

    /**
     * The limits of the network layer; socket buffer sizes of -1 leave the operating system's default
     * (which it grows with the connection).
     */
    public record Settings(String host, int port, int threads, int maxFrameBytes, int maxInFlightPerConnection,
                           int maxConnections, long maxRequestMemoryBytes, int sendBufferBytes, int receiveBufferBytes,
                           long requestStallTimeoutMs, long maxIdleMs, long maxResponseMemoryBytes,
                           long maxResponseMemoryPerConnectionBytes) {
    }

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel serverChannel;
    private final AtomicInteger connections = new AtomicInteger();
    private final RequestMemory memory;
    private final MemoryBudget responseMemory;
    private final ThrottledLog refusals = new ThrottledLog(LOG, 10, TimeUnit.SECONDS);
    private volatile FrameProcessor processor;

    /** Binds the listener; it accepts connections once {@link #serve} is called. */
    public NetworkServer(Settings settings) throws InterruptedException {
        memory = new RequestMemory(settings.maxRequestMemoryBytes());
        responseMemory = new MemoryBudget(settings.maxResponseMemoryBytes());
        boolean epoll = Epoll.isAvailable();
        boss = new MultiThreadIoEventLoopGroup(1, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        workers = new MultiThreadIoEventLoopGroup(settings.threads(),
            epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        ServerBootstrap bootstrap = new ServerBootstrap()
            .group(boss, workers)
            .channel(channelType)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            .option(ChannelOption.AUTO_READ, false)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.SO_KEEPALIVE, true)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20))
            .childHandler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel channel) {
                    if (connections.incrementAndGet() > settings.maxConnections()) {
                        connections.decrementAndGet();
                        refusals.warn("Refusing connection from {}: max.connections ({}) reached", channel.remoteAddress(),
                            settings.maxConnections());
                        channel.close();
                        return;
                    }
                    channel.closeFuture().addListener(closed -> connections.decrementAndGet());
                    ReadGate gate = new ReadGate();
                    // Reader-idle: a peer stalled in the middle of a request; all-idle (with output progress
                    // observed, so a peer that does not read its responses counts as idle): connections.max.idle.ms.
                    channel.pipeline().addLast(new IdleStateHandler(true, settings.requestStallTimeoutMs(), 0,
                        settings.maxIdleMs(), TimeUnit.MILLISECONDS));
                    channel.pipeline().addLast(new FrameDecoder(settings.maxFrameBytes(), settings.requestStallTimeoutMs(),
                        memory, gate));
                    channel.pipeline().addLast(new ConnectionHandler(processor, settings.maxInFlightPerConnection(),
                        memory, gate, responseMemory.child(settings.maxResponseMemoryPerConnectionBytes()),
                        settings.maxIdleMs()));
                    channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                            FatalErrors.haltIfFatal(cause);
                            ctx.close();
                        }
                    });
                }
            });
        if (settings.sendBufferBytes() != -1) {
            bootstrap.childOption(ChannelOption.SO_SNDBUF, settings.sendBufferBytes());
        }
        if (settings.receiveBufferBytes() != -1) {
            bootstrap.childOption(ChannelOption.SO_RCVBUF, settings.receiveBufferBytes());
        }
        InetSocketAddress address = settings.host().isEmpty() ? new InetSocketAddress(settings.port())
            : new InetSocketAddress(settings.host(), settings.port());
        serverChannel = bootstrap.bind(address).sync().channel();
    }

    /** Starts accepting connections, each of whose requests goes to {@code requests}. */
    public void serve(FrameProcessor requests) {
        if (processor != null) {
            throw new IllegalStateException("already serving");
        }
        processor = requests;
        serverChannel.config().setAutoRead(true);
    }

    /** Bytes of requests received and not yet answered, across all connections. */
    public long requestMemoryInUse() {
        return memory.usedBytes();
    }

    /** Bytes of responses in memory and not yet written, across all connections. */
    public long responseMemoryInUse() {
        return responseMemory.usedBytes();
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    @Override
    public void close() {
        serverChannel.close().awaitUninterruptibly();
        workers.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly();
        boss.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
