package dev.weir.metadata.postgres;

import dev.weir.metadata.AppendFailure;
import dev.weir.metadata.AppendOutcome;
import dev.weir.metadata.BatchAppend;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.PartitionOffsets;
import dev.weir.metadata.ProducerSequences;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one commit does, decided from the state its transaction read under the partitions' locks: the
 * offsets each batch gets, or why it is refused, the index rows to insert, the partitions' new next
 * offsets and the producers' new states. The sequence rules are {@link ProducerSequences}'; batches
 * take offsets in the order they come. Pure and not thread-safe: the committing thread owns it.
 */
final class CommitPlan {
    record ProducerKey(long producerId, PartitionKey partition) {
    }

    /** A batch that took offsets, from {@code baseOffset} on. */
    record IndexedBatch(BatchAppend batch, long baseOffset) {
        long lastOffset() {
            return baseOffset + batch.offsetCount() - 1;
        }
    }

    private final Map<PartitionKey, PartitionOffsets> partitions;
    private final Map<ProducerKey, ProducerSequences> storedProducers;
    private final List<AppendOutcome> outcomes = new ArrayList<>();
    private final List<IndexedBatch> indexed = new ArrayList<>();
    private final Map<PartitionKey, Long> nextOffsets = new LinkedHashMap<>();
    private final Map<ProducerKey, ProducerSequences> producers = new LinkedHashMap<>();

    private CommitPlan(Map<PartitionKey, PartitionOffsets> partitions,
                       Map<ProducerKey, ProducerSequences> storedProducers) {
        this.partitions = partitions;
        this.storedProducers = storedProducers;
    }

    /**
     * Plans the commit of {@code batches}, in order, onto the partitions that exist ({@code partitions},
     * with their offsets) and the producers' stored states (absent: the producer never wrote there).
     */
    static CommitPlan of(List<BatchAppend> batches, Map<PartitionKey, PartitionOffsets> partitions,
                         Map<ProducerKey, ProducerSequences> storedProducers) {
        CommitPlan plan = new CommitPlan(partitions, storedProducers);
        for (BatchAppend batch : batches) {
            plan.outcomes.add(plan.assign(batch));
        }
        return plan;
    }

    private AppendOutcome assign(BatchAppend batch) {
        PartitionOffsets offsets = partitions.get(batch.partition());
        if (offsets == null) {
            return AppendOutcome.failed(AppendFailure.PARTITION_DELETED, "The partition was deleted.");
        }
        ProducerSequences sequences = null;
        if (batch.isIdempotent()) {
            ProducerKey key = new ProducerKey(batch.producerId(), batch.partition());
            sequences = producers.get(key);
            if (sequences == null) {
                ProducerSequences stored = storedProducers.get(key);
                sequences = stored == null ? null : stored.copy();
            }
            ProducerSequences.Check check = ProducerSequences.check(sequences, batch);
            if (check.isDuplicate()) {
                return AppendOutcome.duplicateOf(check.duplicateOf(), offsets.logStartOffset());
            }
            if (check.failure() != null) {
                return AppendOutcome.failed(check.failure(), check.message());
            }
            if (sequences == null) {
                sequences = new ProducerSequences(batch.producerEpoch(), List.of());
            }
            producers.put(key, sequences);
        }
        long baseOffset = nextOffsets.getOrDefault(batch.partition(), offsets.nextOffset());
        nextOffsets.put(batch.partition(), baseOffset + batch.offsetCount());
        if (sequences != null) {
            sequences.record(batch, baseOffset);
        }
        indexed.add(new IndexedBatch(batch, baseOffset));
        return AppendOutcome.appended(baseOffset, offsets.logStartOffset());
    }

    /** One outcome per batch, in the batches' order. */
    List<AppendOutcome> outcomes() {
        return outcomes;
    }

    /** The batches that took offsets, in the batches' order. */
    List<IndexedBatch> indexed() {
        return indexed;
    }

    /** The new next offset of each partition that took offsets. */
    Map<PartitionKey, Long> nextOffsets() {
        return nextOffsets;
    }

    /** The new state of each producer that wrote. */
    Map<ProducerKey, ProducerSequences> producers() {
        return producers;
    }
}
