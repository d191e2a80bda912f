package dev.weir.handler;

import dev.weir.config.BrokerConfig;
import dev.weir.log.read.DirectBufferPool;
import dev.weir.log.read.SendMode;
import dev.weir.log.SendableRead;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.PartitionOffsets;
import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import dev.weir.topics.Topic;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchRequestData.FetchPartition;
import org.apache.kafka.common.message.FetchRequestData.FetchTopic;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;

/**
 * Fetch: reads each requested partition from its fetch offset, within the partition's and the
 * request's byte limits, the request's capped at the broker's {@code fetch.max.bytes} (the first batch
 * found is returned whole even when it is larger, so a consumer always makes progress). A partition
 * named twice is answered once, with the fetch position of its last mention, as Kafka does. Batches
 * read into memory are counted against the connection's share of response memory; when it is spent
 * they are sent from their files instead. When fewer than {@code min.bytes} are available and nothing went
 * wrong, the fetch waits up to {@code max.wait.ms} for a commit to one of its partitions and reads
 * again (long polling). Fetch sessions are not kept: every response has session id 0, which tells
 * clients to send full requests. Reads run on the I/O executor, or on the catch-up executor when
 * one of the partitions is read below its in-memory tail.
 */
public final class FetchHandler implements Handler<FetchRequest> {
    private final BrokerContext broker;

    public FetchHandler(BrokerContext broker) {
        this.broker = broker;
    }

    /** One requested partition, resolved; {@code topic} is null when unknown. */
    private record Wanted(PartitionData response, Topic topic, FetchPartition request) {
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, FetchRequest request) {
        FetchRequestData data = request.data();
        if (data.sessionId() != 0) {
            return CompletableFuture.completedFuture(FetchResponse.of(sessionError(Errors.FETCH_SESSION_ID_NOT_FOUND)));
        }
        if (data.sessionEpoch() != 0 && data.sessionEpoch() != -1) {
            return CompletableFuture.completedFuture(FetchResponse.of(sessionError(Errors.INVALID_FETCH_SESSION_EPOCH)));
        }
        FetchResponseData response = new FetchResponseData().setErrorCode((short) 0).setSessionId(0);
        List<Wanted> wanted = resolve(scope, data, response);
        long maxWaitMs = Math.max(0, Math.min(data.maxWaitMs(), broker.config().getInt(BrokerConfig.FETCH_MAX_WAIT_MS_LIMIT)));
        int brokerMaxBytes = broker.config().getInt(BrokerConfig.FETCH_MAX_BYTES);
        int maxBytes = Math.min(brokerMaxBytes, scope.apiVersion() >= 3 ? Math.max(0, data.maxBytes()) : Integer.MAX_VALUE);
        boolean readCommitted = data.isolationLevel() == IsolationLevel.READ_COMMITTED.id();
        // A fetch at the end of every partition reads nothing but in-memory offsets: it is answered here, on
        // the connection's thread, without the round trip through the I/O pool (consumers that poll with a
        // short max.wait.ms send many of these).
        CompletableFuture<ReadTotals> firstRead = nothingToRead(wanted)
            ? CompletableFuture.completedFuture(readAll(scope, wanted, maxBytes, readCommitted))
            : onItsPool(wanted, () -> readAll(scope, wanted, maxBytes, readCommitted));
        return firstRead.thenCompose(read -> {
            boolean enough = read.bytes >= data.minBytes() || read.failed || maxWaitMs == 0 || wanted.isEmpty();
            if (enough) {
                return CompletableFuture.completedFuture(FetchResponse.of(response));
            }
            List<PartitionKey> keys = wanted.stream().filter(w -> w.topic != null)
                .map(w -> w.topic.partition(w.request.partition())).toList();
            long remainingMs = Math.max(0, scope.receivedMs() + maxWaitMs - broker.clock().millis());
            return broker.log().awaitCommit(keys, remainingMs)
                .thenCompose(woken -> onItsPool(wanted, () -> readAll(scope, wanted, maxBytes, readCommitted)))
                .thenApply(reread -> FetchResponse.of(response));
        });
    }

    /**
     * Runs the reads on the I/O executor when every partition is read from its in-memory tail, else on the
     * catch-up executor: a consumer replaying history waits for its own kind only.
     */
    private <T> CompletableFuture<T> onItsPool(List<Wanted> wanted, java.util.function.Supplier<T> reads) {
        for (Wanted partition : wanted) {
            if (partition.topic != null && !broker.log().readsFromTail(
                partition.topic.partition(partition.request.partition()), partition.request.fetchOffset())) {
                return broker.onCatchUpIo(reads);
            }
        }
        return broker.onIo(reads);
    }

    /** A pooled buffer for the response, counted against the connection's response memory until written. */
    private java.nio.ByteBuffer borrowBuffer(RequestScope scope, int size) {
        long held = DirectBufferPool.allocationBytes(size);
        if (!scope.responseMemory().tryReserve(held)) {
            throw new ResponseMemorySpent();
        }
        java.nio.ByteBuffer buffer;
        try {
            buffer = broker.fetchBuffers().acquire(size);
        } catch (RuntimeException | Error e) {
            scope.responseMemory().release(held);
            throw e;
        }
        return scope.borrow(buffer, borrowed -> {
            broker.fetchBuffers().release(borrowed);
            scope.responseMemory().release(held);
        });
    }

    /** The connection's share of response memory (or the broker's) cannot hold another buffer now. */
    private static final class ResponseMemorySpent extends RuntimeException {
        ResponseMemorySpent() {
            super("response memory spent", null, false, false);
        }
    }

    private static FetchResponseData sessionError(Errors error) {
        return new FetchResponseData().setErrorCode(error.code()).setSessionId(0);
    }

    private List<Wanted> resolve(RequestScope scope, FetchRequestData data, FetchResponseData response) {
        boolean byId = scope.apiVersion() >= 13;
        // Each partition once, in the order first named, with what its last mention asks (Kafka keeps a
        // request's partitions in a map the same way): one request cannot make the broker read a partition twice.
        Map<Object, Wanted> wanted = new LinkedHashMap<>();
        for (FetchTopic fetchTopic : data.topics()) {
            Optional<Topic> topic = byId ? broker.topics().byId(fetchTopic.topicId()) : broker.topics().byName(fetchTopic.topic());
            FetchableTopicResponse topicResponse = null;
            for (FetchPartition partition : fetchTopic.partitions()) {
                List<Object> key = List.of(byId ? fetchTopic.topicId() : fetchTopic.topic(), partition.partition());
                Wanted earlier = wanted.get(key);
                if (earlier != null) {
                    wanted.put(key, new Wanted(earlier.response, earlier.topic, partition));
                    continue;
                }
                if (topicResponse == null) {
                    topicResponse = new FetchableTopicResponse().setTopic(fetchTopic.topic()).setTopicId(fetchTopic.topicId());
                    response.responses().add(topicResponse);
                }
                PartitionData partitionResponse = new PartitionData().setPartitionIndex(partition.partition())
                    .setHighWatermark(-1).setLastStableOffset(-1).setLogStartOffset(-1).setRecords(MemoryRecords.EMPTY);
                topicResponse.partitions().add(partitionResponse);
                Errors error = Errors.NONE;
                if (topic.isEmpty()) {
                    error = byId ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION;
                } else if (!topic.get().hasPartition(partition.partition())) {
                    error = Errors.UNKNOWN_TOPIC_OR_PARTITION;
                } else {
                    error = LeaderEpochs.check(partition.currentLeaderEpoch());
                }
                partitionResponse.setErrorCode(error.code());
                wanted.put(key, new Wanted(partitionResponse, error == Errors.NONE ? topic.get() : null, partition));
            }
        }
        return new ArrayList<>(wanted.values());
    }

    private record ReadTotals(long bytes, boolean failed) {
    }

    /** True when every requested partition is known and fetched at its high watermark. */
    private boolean nothingToRead(List<Wanted> wanted) {
        for (Wanted partition : wanted) {
            if (partition.topic == null) {
                return false;
            }
            PartitionKey key = partition.topic.partition(partition.request.partition());
            if (partition.request.fetchOffset() != broker.log().offsets(key).nextOffset()) {
                return false;
            }
        }
        return true;
    }

    private ReadTotals readAll(RequestScope scope, List<Wanted> wanted, int maxBytes, boolean readCommitted) {
        long bytes = 0;
        boolean failed = false;
        for (Wanted partition : wanted) {
            if (partition.topic == null) {
                failed = true;
                continue;
            }
            int remaining = (int) Math.max(0, maxBytes - bytes);
            int limit = Math.min(partition.request.partitionMaxBytes(), remaining);
            try {
                bytes += readOne(scope, partition, limit, bytes == 0, readCommitted);
                failed |= partition.response.errorCode() != Errors.NONE.code();
            } catch (RuntimeException e) {
                partition.response.setErrorCode(ErrorTranslator.toApiError(e).error().code()).setRecords(MemoryRecords.EMPTY);
                failed = true;
            }
        }
        return new ReadTotals(bytes, failed);
    }

    private int readOne(RequestScope scope, Wanted partition, int limit, boolean minOneBatch, boolean readCommitted) {
        PartitionKey key = partition.topic.partition(partition.request.partition());
        PartitionOffsets offsets = broker.log().offsets(key);
        long fetchOffset = partition.request.fetchOffset();
        PartitionData response = partition.response;
        response.setHighWatermark(offsets.nextOffset()).setLastStableOffset(offsets.nextOffset())
            .setLogStartOffset(offsets.logStartOffset())
            .setAbortedTransactions(readCommitted ? new ArrayList<>() : null);
        if (fetchOffset < offsets.logStartOffset() || fetchOffset > offsets.nextOffset()) {
            response.setErrorCode(Errors.OFFSET_OUT_OF_RANGE.code()).setRecords(MemoryRecords.EMPTY);
            return 0;
        }
        // Batches read into memory use pooled direct buffers that go back to the pool once the response is
        // written; files sent from are closed then.
        java.util.function.IntFunction<java.nio.ByteBuffer> buffers = size -> borrowBuffer(scope, size);
        SendMode mode = broker.config().getBoolean(BrokerConfig.FETCH_VERIFY_CRC) ? SendMode.CHECK_EVERY_BATCH
            : SendMode.COPY_SMALL_BATCHES;
        SendableRead read;
        try {
            read = broker.log().readForSending(key, fetchOffset, Math.max(0, limit), minOneBatch, mode, buffers,
                scope::closeAfterWrite);
        } catch (ResponseMemorySpent spent) {
            // The connection's share of response memory (or the broker's) is held by responses not yet written:
            // send this partition's batches from their files instead, which holds next to nothing, so consumers
            // keep going while other peers leave their responses unread. Where every batch must be checked in
            // memory, the partition is answered without records, as if it had none yet.
            if (mode == SendMode.CHECK_EVERY_BATCH) {
                response.setRecords(MemoryRecords.EMPTY);
                return 0;
            }
            read = broker.log().readForSending(key, fetchOffset, Math.max(0, limit), minOneBatch, SendMode.FILES_ONLY,
                buffers, scope::closeAfterWrite);
        }
        response.setErrorCode(Errors.NONE.code()).setRecords(read.records())
            .setHighWatermark(read.highWatermark()).setLastStableOffset(read.highWatermark())
            .setLogStartOffset(read.logStartOffset());
        return read.records().sizeInBytes();
    }
}
