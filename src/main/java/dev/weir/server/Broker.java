package dev.weir.server;

import dev.weir.cluster.Membership;
import dev.weir.config.BrokerConfig;
import dev.weir.config.Listener;
import dev.weir.handler.ApiVersionsHandler;
import dev.weir.handler.BrokerContext;
import dev.weir.handler.ConsumerGroupDescribeHandler;
import dev.weir.handler.CoordinatorOnly;
import dev.weir.handler.ConsumerGroupHeartbeatHandler;
import dev.weir.handler.ErrorTranslator;
import dev.weir.handler.GroupHandlers;
import dev.weir.groups.ConsumerGroupCoordinator;
import dev.weir.groups.GroupAdministration;
import dev.weir.groups.GroupCoordinator;
import dev.weir.groups.GroupSettings;
import dev.weir.groups.OffsetCoordinator;
import dev.weir.log.cleaner.Compactor;
import dev.weir.log.read.DirectBufferPool;
import dev.weir.log.Log;
import dev.weir.log.cleaner.Merger;
import dev.weir.metadata.MetadataStore;
import dev.weir.net.NetworkServer;
import dev.weir.protocol.HandlerRegistry;
import dev.weir.protocol.RequestDispatcher;
import dev.weir.runtime.FatalCheckingScheduledExecutor;
import dev.weir.runtime.FatalErrors;
import dev.weir.storage.ObjectStore;
import dev.weir.log.cleaner.LogCleaner;
import dev.weir.topics.TopicService;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.protocol.ApiKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node broker: locks the data directory, opens the metadata database and the object store,
 * recovers the log, binds the listener and serves until closed. Closing stops accepting, finishes the
 * WAL object in progress and closes the stores.
 */
public final class Broker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Broker.class);

    private final BrokerConfig config;
    private final Path dataDir;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private MetadataStore metadata;
    private ObjectStore store;
    private ScheduledExecutorService timer;
    private ExecutorService io;
    private ExecutorService catchUpIo;
    private ScheduledExecutorService groupThread;
    private ScheduledExecutorService cleaner;
    private LogCleaner logCleaner;
    private Log log;
    private CatalogFollower catalogFollower;
    private ScheduledExecutorService heartbeatThread;
    private Membership membership;
    private NetworkServer network;
    private Listener advertised;

    public Broker(BrokerConfig config, Clock clock) throws IOException, InterruptedException {
        this.config = config;
        this.dataDir = config.dataDir();
        Files.createDirectories(dataDir);
        lockChannel = FileChannel.open(dataDir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        lock = lockChannel.tryLock();
        if (lock == null) {
            lockChannel.close();
            throw new IllegalStateException("The data directory " + dataDir + " is in use by another Weir process.");
        }
        java.util.Deque<AutoCloseable> opened = new java.util.ArrayDeque<>();
        opened.push(lockChannel);
        try {
            start(clock, opened);
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            // Whatever was opened is closed again, so a failed start leaves no thread or lock behind.
            while (!opened.isEmpty()) {
                try {
                    opened.pop().close();
                } catch (Exception closeFailure) {
                    e.addSuppressed(closeFailure);
                }
            }
            throw e;
        }
    }

    private void start(Clock clock, java.util.Deque<AutoCloseable> opened) throws IOException, InterruptedException {
        metadata = Stores.openMetadataStore(config, dataDir, clock);
        opened.push(metadata);
        store = Stores.openObjectStore(config, dataDir);
        opened.push(store);
        Stores.checkSameCluster(store, metadata, Stores.metadataLocation(config, dataDir));
        LOG.info("Cluster {}: objects in {}, metadata in {}", metadata.clusterId(), store,
            Stores.metadataLocation(config, dataDir));
        timer = new FatalCheckingScheduledExecutor(1, daemonThreads("weir-timer"));
        opened.push(timer::shutdownNow);
        io = Executors.newFixedThreadPool(config.getInt(BrokerConfig.NUM_IO_THREADS), daemonThreads("weir-io"));
        opened.push(io::shutdownNow);
        catchUpIo = Executors.newFixedThreadPool(config.getInt(BrokerConfig.NUM_CATCHUP_IO_THREADS),
            daemonThreads("weir-catchup-io"));
        opened.push(catchUpIo::shutdownNow);
        Listener listener = config.listener();
        network = new NetworkServer(new NetworkServer.Settings(listener.host(), listener.port(),
            config.getInt(BrokerConfig.NUM_NETWORK_THREADS), config.getInt(BrokerConfig.SOCKET_REQUEST_MAX_BYTES),
            config.getInt(BrokerConfig.CONNECTION_MAX_INFLIGHT_REQUESTS), config.getInt(BrokerConfig.MAX_CONNECTIONS),
            config.getLong(BrokerConfig.QUEUED_MAX_REQUEST_BYTES), config.getInt(BrokerConfig.SOCKET_SEND_BUFFER_BYTES),
            config.getInt(BrokerConfig.SOCKET_RECEIVE_BUFFER_BYTES), config.getLong(BrokerConfig.SOCKET_REQUEST_STALL_TIMEOUT_MS),
            config.getLong(BrokerConfig.CONNECTIONS_MAX_IDLE_MS), config.getLong(BrokerConfig.QUEUED_MAX_RESPONSE_BYTES),
            config.getInt(BrokerConfig.FETCH_MAX_BYTES)));
        opened.push(network);
        advertised = advertisedListener(config, network.port());
        heartbeatThread = new FatalCheckingScheduledExecutor(1, daemonThreads("weir-heartbeat"));
        opened.push(heartbeatThread::shutdownNow);
        membership = new Membership(metadata, new Membership.Self(config.nodeId(), advertised.host(), advertised.port(),
            config.string(BrokerConfig.BROKER_RACK)), clock, config.getInt(BrokerConfig.BROKER_SESSION_TIMEOUT_MS),
            config.getInt(BrokerConfig.BROKER_HEARTBEAT_INTERVAL_MS));
        // With SQLite the data directory's lock makes the node id this process's alone.
        // Before the log opens: it deletes objects of this node id that were never committed, which would be
        // another running broker's if it held the id. The listener is bound (not accepting yet) for its port.
        membership.join(config.string(BrokerConfig.METADATA_STORE_URL) == null, heartbeatThread, Broker::stopFenced);
        opened.push(membership);
        log = new Log(store, metadata, clock, config.nodeId(), Stores.logSettings(config, store), timer);
        opened.push(log);
        TopicService topics = new TopicService(metadata, log, config, clock);
        cleaner = new FatalCheckingScheduledExecutor(1, daemonThreads("weir-log-cleaner"));
        opened.push(cleaner::shutdownNow);
        Merger merger = new Merger(log, clock, config.getInt(BrokerConfig.LOG_MERGE_ROW_BYTES),
            config.getDouble(BrokerConfig.LOG_CLEANER_IO_MAX_BYTES_PER_SECOND),
            config.getInt(BrokerConfig.LOG_CLEANER_IO_BUFFER_SIZE), config.getInt(BrokerConfig.S3_MERGE_WINDOW_BYTES));
        Compactor compactor = new Compactor(log, merger, clock, config.getLong(BrokerConfig.LOG_CLEANER_DEDUPE_BUFFER_SIZE));
        TopicServiceLookup topicLookup = new TopicServiceLookup(topics);
        logCleaner = new LogCleaner(topicLookup, log, merger, compactor, clock,
            config.getLong(BrokerConfig.LOG_SEGMENT_DELETE_DELAY_MS), config.getLong(BrokerConfig.LOG_MERGE_MIN_AGE_MS));
        logCleaner.schedule(cleaner, config.getLong(BrokerConfig.LOG_RETENTION_CHECK_INTERVAL_MS),
            config.getLong(BrokerConfig.LOG_MERGE_INTERVAL_MS));

        BrokerContext context = new BrokerContext(config, topics, log, metadata, io, catchUpIo, clock, config.nodeId(),
            metadata.clusterId(), advertised, new DirectBufferPool(config.getLong(BrokerConfig.FETCH_BUFFER_POOL_BYTES)),
            membership);
        groupThread = new FatalCheckingScheduledExecutor(1, daemonThreads("weir-groups"));
        opened.push(groupThread::shutdownNow);
        GroupCoordinator classic = new GroupCoordinator(groupThread, clock, groupSettings(config));
        OffsetCoordinator offsets = new OffsetCoordinator(classic, metadata, topicLookup);
        topics.onDeleted((topic, here) -> offsets.topicDeleted(topic.name(), here));
        membership.onChange(offsets::coordinatorsMoved);
        catalogFollower = new CatalogFollower(metadata, topics, log, config.string(BrokerConfig.METADATA_STORE_URL) != null);
        opened.push(catalogFollower);
        GroupHandlers groups = new GroupHandlers(classic, offsets, new GroupAdministration(classic, offsets));
        HandlerRegistry registry = Handlers.registry(context, groups);
        ConsumerGroupCoordinator consumerProtocol = new ConsumerGroupCoordinator(classic, topicLookup);
        registry.register(ApiKeys.CONSUMER_GROUP_HEARTBEAT, new CoordinatorOnly<>(context,
            new ConsumerGroupHeartbeatHandler(consumerProtocol), request -> List.of(request.data().groupId())));
        registry.register(ApiKeys.CONSUMER_GROUP_DESCRIBE, new CoordinatorOnly<>(context,
            new ConsumerGroupDescribeHandler(consumerProtocol), request -> request.data().groupIds()));
        registry.register(ApiKeys.API_VERSIONS, new ApiVersionsHandler(registry));
        network.serve(new RequestDispatcher(registry, listener.name(), clock, ErrorTranslator::toApiException));
    }

    /**
     * Another broker took this one's node id over, having taken it for dead: two brokers must not serve
     * under one id, so this process stops (on a thread of its own: stopping closes the heartbeat thread).
     */
    private static void stopFenced() {
        Thread stopping = new Thread(() -> {
            LOG.error("Stopping: another broker holds this broker's node.id now");
            System.exit(FatalErrors.EXIT_STATUS);
        }, "weir-fenced");
        stopping.start();
    }

    private static GroupSettings groupSettings(BrokerConfig config) {
        return new GroupSettings(config.getInt(BrokerConfig.GROUP_MIN_SESSION_TIMEOUT_MS),
            config.getInt(BrokerConfig.GROUP_MAX_SESSION_TIMEOUT_MS), config.getInt(BrokerConfig.GROUP_INITIAL_REBALANCE_DELAY_MS),
            config.getInt(BrokerConfig.GROUP_MAX_SIZE), config.getInt(BrokerConfig.GROUP_MAX_MEMBER_METADATA_BYTES),
            config.getInt(BrokerConfig.OFFSET_METADATA_MAX_BYTES), config.getInt(BrokerConfig.GROUP_MAX_GROUPS),
            config.getInt(BrokerConfig.OFFSETS_RETENTION_MINUTES) * 60_000L,
            config.getInt(BrokerConfig.GROUP_CONSUMER_HEARTBEAT_INTERVAL_MS),
            config.getInt(BrokerConfig.GROUP_CONSUMER_SESSION_TIMEOUT_MS),
            config.getLong(BrokerConfig.GROUP_MAX_TOTAL_METADATA_BYTES));
    }

    private static Listener advertisedListener(BrokerConfig config, int boundPort) throws UnknownHostException {
        if (config.list(BrokerConfig.ADVERTISED_LISTENERS) != null) {
            return config.advertisedListener();
        }
        Listener listener = config.listener();
        String host = listener.host();
        if (host.isEmpty() || host.equals("0.0.0.0") || host.equals("::")) {
            host = InetAddress.getLocalHost().getCanonicalHostName();
        }
        return new Listener(listener.name(), host, boundPort);
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
        AtomicInteger counter = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    public int port() {
        return network.port();
    }

    public Listener advertised() {
        return advertised;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Runs one retention and garbage-collection pass now (tests drive it with their own clock). */
    public void enforceRetentionNow() {
        onCleanerThread(logCleaner::enforceRetentionOnce);
    }

    /** Runs one merging and garbage-collection pass now. */
    public void mergeNow() {
        onCleanerThread(logCleaner::mergeOnce);
    }

    private void onCleanerThread(Runnable work) {
        try {
            cleaner.submit(work).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("background pass failed", e.getCause());
        }
    }

    public BrokerConfig config() {
        return config;
    }

    @Override
    public void close() {
        LOG.info("Shutting down");
        network.close();
        catalogFollower.close();
        membership.close();
        heartbeatThread.shutdownNow();
        log.close();
        groupThread.shutdownNow();
        cleaner.shutdownNow();
        io.shutdown();
        catchUpIo.shutdown();
        timer.shutdownNow();
        try {
            io.awaitTermination(10, TimeUnit.SECONDS);
            catchUpIo.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        store.close();
        metadata.close();
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            LOG.warn("Releasing the data directory lock failed", e);
        }
    }
}
