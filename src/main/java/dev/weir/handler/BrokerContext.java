package dev.weir.handler;

import dev.weir.cluster.Membership;
import dev.weir.config.BrokerConfig;
import dev.weir.config.Listener;
import dev.weir.log.read.DirectBufferPool;
import dev.weir.log.Log;
import dev.weir.metadata.MetadataStore;
import dev.weir.topics.TopicService;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * What the handlers share: settings, the topic service, the log, the metadata store, the I/O
 * executors for blocking work (one for catch-up reads, one for the rest), the clock, this node's
 * identity as clients see it, the pool of direct buffers that fetch responses borrow, and the live
 * brokers.
 */
public record BrokerContext(BrokerConfig config, TopicService topics, Log log, MetadataStore metadata, Executor io,
                            Executor catchUpIo, Clock clock, int nodeId, String clusterId, Listener advertised,
                            DirectBufferPool fetchBuffers, Membership cluster) {
    /** Runs blocking work on the I/O executor, mapping Weir's internal failures to Kafka exceptions. */
    public <T> CompletableFuture<T> onIo(Supplier<T> work) {
        return on(io, work);
    }

    /**
     * Runs a catch-up read (below the in-memory tail: older objects, the index database) on its own
     * executor, so that it never holds up tail reads and metadata requests.
     */
    public <T> CompletableFuture<T> onCatchUpIo(Supplier<T> work) {
        return on(catchUpIo, work);
    }

    private static <T> CompletableFuture<T> on(Executor executor, Supplier<T> work) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return work.get();
            } catch (RuntimeException e) {
                throw ErrorTranslator.toApiException(e);
            }
        }, executor);
    }
}
