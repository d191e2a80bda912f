package dev.weir.handler;

import dev.weir.log.batch.BatchValidator;
import dev.weir.log.batch.InvalidBatchException;
import dev.weir.log.batch.ValidatedBatch;
import dev.weir.metadata.AppendOutcome;
import dev.weir.protocol.CloseConnectionSignal;
import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import dev.weir.topics.Topic;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ProduceRequestData.PartitionProduceData;
import org.apache.kafka.common.message.ProduceRequestData.TopicProduceData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.message.ProduceResponseData.TopicProduceResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;

/**
 * Produce: validates each partition's batch on the calling thread (so a connection's batches reach
 * the WAL in the order they were sent), appends the valid ones, and answers once every append is
 * committed and durable. A bad batch or unknown partition fails only its own partition; a partition
 * named twice is appended and answered once, with its last batch, as Kafka does. With acks=0
 * no response is sent, but the request still completes only once its batches are committed, so that
 * its bytes count against the request memory until then; if any partition failed (when validated or
 * when committed), the connection is closed instead, as Kafka does, since no response can carry the
 * error.
 */
public final class ProduceHandler implements Handler<ProduceRequest> {
    private final BrokerContext broker;

    public ProduceHandler(BrokerContext broker) {
        this.broker = broker;
    }

    private record PendingPartition(PartitionProduceResponse response,
                                    CompletableFuture<AppendOutcome> outcome, long logAppendTimeMs) {
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, ProduceRequest request) {
        short acks = request.acks();
        if (acks != 0 && acks != 1 && acks != -1) {
            return CompletableFuture.completedFuture(request.getErrorResponse(0, Errors.INVALID_REQUIRED_ACKS.exception()));
        }
        if (request.transactionalId() != null) {
            return CompletableFuture.completedFuture(request.getErrorResponse(0,
                Errors.TRANSACTIONAL_ID_NOT_FOUND.exception("Transactions are not supported by this broker yet.")));
        }
        long nowMs = broker.clock().millis();
        ProduceResponseData data = new ProduceResponseData();
        List<PendingPartition> pending = new ArrayList<>();
        boolean byId = scope.apiVersion() >= 13;
        for (TopicBatches topicBatches : lastBatchPerPartition(request, byId)) {
            TopicProduceData topicData = topicBatches.topic();
            TopicProduceResponse topicResponse = new TopicProduceResponse().setName(topicData.name())
                .setTopicId(topicData.topicId());
            data.responses().add(topicResponse);
            Optional<Topic> topic = byId ? broker.topics().byId(topicData.topicId())
                : broker.topics().byName(topicData.name());
            Errors unknown = byId ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION;
            for (PartitionProduceData partition : topicBatches.partitions().values()) {
                PartitionProduceResponse response = new PartitionProduceResponse().setIndex(partition.index())
                    .setBaseOffset(-1).setLogAppendTimeMs(-1).setLogStartOffset(-1);
                topicResponse.partitionResponses().add(response);
                if (topic.isEmpty() || !topic.get().hasPartition(partition.index())) {
                    response.setErrorCode((topic.isEmpty() ? unknown : Errors.UNKNOWN_TOPIC_OR_PARTITION).code());
                    continue;
                }
                try {
                    ValidatedBatch batch = validate(topic.get(), partition, nowMs);
                    CompletableFuture<AppendOutcome> outcome = broker.log().append(topic.get().partition(partition.index()), batch);
                    pending.add(new PendingPartition(response, outcome, batch.logAppendTimeMs()));
                } catch (InvalidBatchException e) {
                    response.setErrorCode(e.error().code()).setErrorMessage(e.getMessage());
                }
            }
        }
        CompletableFuture<?>[] outcomes = pending.stream().map(PendingPartition::outcome).toArray(CompletableFuture[]::new);
        // Even with acks=0 the request completes only once its batches are committed: until then its bytes
        // are still in use and still count against queued.max.request.bytes, so a client sending acks=0 is
        // held back by the same bounds as any other.
        return CompletableFuture.allOf(outcomes).thenApply(ignored -> {
            for (PendingPartition partition : pending) {
                AppendOutcome outcome = partition.outcome.join();
                Errors error = outcome.succeeded() ? Errors.NONE : ErrorTranslator.toError(outcome.failure());
                partition.response.setErrorCode(error.code()).setErrorMessage(outcome.message())
                    .setBaseOffset(outcome.baseOffset()).setLogStartOffset(outcome.logStartOffset())
                    .setLogAppendTimeMs(outcome.succeeded() ? partition.logAppendTimeMs : -1);
            }
            if (acks == 0) {
                closeIfAnyFailed(data);
                return null;
            }
            return new ProduceResponse(data);
        });
    }

    /** A topic of the request, named by its first entry, with the batch to append to each of its partitions. */
    private record TopicBatches(TopicProduceData topic, Map<Integer, PartitionProduceData> partitions) {
    }

    /**
     * The request's topics and partitions in the order they first appear, each once: a partition named
     * more than once (in one topic entry or in two entries of the same topic) keeps only its last batch,
     * which alone is appended and answered. That is what Kafka does (KafkaApis keys the batches by
     * partition), so a request that names a partition twice is answered as Kafka answers it.
     */
    private static Collection<TopicBatches> lastBatchPerPartition(ProduceRequest request, boolean byId) {
        Map<Object, TopicBatches> topics = new LinkedHashMap<>();
        for (TopicProduceData topicData : request.data().topicData()) {
            Object key = byId ? topicData.topicId() : topicData.name();
            TopicBatches topic = topics.computeIfAbsent(key, ignored -> new TopicBatches(topicData, new LinkedHashMap<>()));
            for (PartitionProduceData partition : topicData.partitionData()) {
                topic.partitions().put(partition.index(), partition);
            }
        }
        return topics.values();
    }

    /** With acks=0 no response can carry an error, so a failed partition closes the connection, as in Kafka. */
    private static void closeIfAnyFailed(ProduceResponseData data) {
        for (TopicProduceResponse topic : data.responses()) {
            for (PartitionProduceResponse partition : topic.partitionResponses()) {
                if (partition.errorCode() != Errors.NONE.code()) {
                    throw new CloseConnectionSignal("Produce with acks=0 to " + topic.name() + "-" + partition.index()
                        + " failed with " + Errors.forCode(partition.errorCode())
                        + "; closing the connection as Kafka does");
                }
            }
        }
    }

    private static ValidatedBatch validate(Topic topic, PartitionProduceData partition, long nowMs) {
        if (topic.isInternal()) {
            // As Kafka's ReplicaManager answers a client's append to one of its internal topics.
            throw new InvalidBatchException(Errors.INVALID_TOPIC_EXCEPTION, "Cannot append to internal topic "
                + topic.name() + ".");
        }
        if (!(partition.records() instanceof MemoryRecords records)) {
            throw new InvalidBatchException(Errors.INVALID_RECORD, "The partition's records are missing.");
        }
        return BatchValidator.validate(records, topic.limits(), nowMs);
    }
}
