package dev.weir.metadata;

import static dev.weir.metadata.Batches.extend;
import static dev.weir.metadata.Batches.first;
import static dev.weir.metadata.Batches.idempotent;
import static dev.weir.metadata.Batches.plain;
import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

/**
 * The batch coordinator's checks of idempotent producers: retries, sequences and epochs, by the rules of
 * {@link ProducerSequences}, kept per partition and across reopening. Part of {@link MetadataStoreContract}.
 */
public interface IdempotentProducerContract extends StoreFixture {
    @Test
    default void aRetriedBatchIsADuplicateOfTheOriginalAndTakesNoOffsets() {
        PartitionKey zero = new PartitionKey(createTopic("orders", 1), 0);
        long producerId = store().nextProducerId();
        commitOne(first("wal/1", 100), plain(zero, 0, 100, 2));

        assertThat(commitOne(extend("wal/1", 200), idempotent(zero, 100, producerId, 0, 0, 3)))
            .isEqualTo(AppendOutcome.appended(2, 0));
        AppendOutcome retried = commitOne(extend("wal/1", 300), idempotent(zero, 200, producerId, 0, 0, 3));
        assertThat(retried).isEqualTo(AppendOutcome.duplicateOf(2, 0));
        assertThat(retried.succeeded()).isTrue();
        assertThat(retried.tookNewOffsets()).isFalse();
        assertThat(commitOne(extend("wal/1", 400), idempotent(zero, 300, producerId, 0, 3, 2)))
            .isEqualTo(AppendOutcome.appended(5, 0));
        // A retry in the same commit as its original.
        assertThat(commit(extend("wal/1", 600), idempotent(zero, 400, producerId, 0, 5, 1),
            idempotent(zero, 500, producerId, 0, 5, 1)))
            .containsExactly(AppendOutcome.appended(7, 0), AppendOutcome.duplicateOf(7, 0));

        assertThat(store().partitionOffsets().get(zero)).isEqualTo(new PartitionOffsets(0, 8));
        assertThat(store().batchesFrom(zero, 0, 10)).extracting(BatchLocation::baseOffset).containsExactly(0L, 2L, 5L, 7L);
    }

    @Test
    default void onlyAProducersLastFiveBatchesAreRecognisedAsRetries() {
        PartitionKey zero = new PartitionKey(createTopic("orders", 1), 0);
        long producerId = store().nextProducerId();
        commitOne(first("wal/1", 100), idempotent(zero, 0, producerId, 0, 0, 1));
        for (int sequence = 1; sequence <= ProducerSequences.BATCHES_TO_RETAIN; sequence++) {
            commitOne(extend("wal/1", 100L * (sequence + 1)), idempotent(zero, 100L * sequence, producerId, 0, sequence, 1));
        }

        assertThat(commitOne(extend("wal/1", 700), idempotent(zero, 600, producerId, 0, 1, 1)))
            .isEqualTo(AppendOutcome.duplicateOf(1, 0));
        assertThat(commitOne(extend("wal/1", 800), idempotent(zero, 700, producerId, 0, 5, 1)))
            .isEqualTo(AppendOutcome.duplicateOf(5, 0));
        assertThat(commitOne(extend("wal/1", 900), idempotent(zero, 800, producerId, 0, 0, 1)).failure())
            .isEqualTo(AppendFailure.OUT_OF_ORDER_SEQUENCE);
        assertThat(store().partitionOffsets().get(zero).nextOffset()).isEqualTo(6);
    }

    @Test
    default void aSequenceThatDoesNotFollowTheLastOneIsOutOfOrder() {
        PartitionKey zero = new PartitionKey(createTopic("orders", 1), 0);
        long producerId = store().nextProducerId();

        AppendOutcome notFromZero = commitOne(first("wal/1", 100), idempotent(zero, 0, producerId, 0, 1, 1));
        assertThat(notFromZero.failure()).isEqualTo(AppendFailure.OUT_OF_ORDER_SEQUENCE);
        assertThat(notFromZero.baseOffset()).isEqualTo(-1);
        assertThat(notFromZero.message()).isNotBlank();
        assertThat(commitOne(extend("wal/1", 200), idempotent(zero, 100, producerId, 0, 0, 2)))
            .isEqualTo(AppendOutcome.appended(0, 0));
        assertThat(commitOne(extend("wal/1", 300), idempotent(zero, 200, producerId, 0, 3, 1)).failure())
            .isEqualTo(AppendFailure.OUT_OF_ORDER_SEQUENCE);
        assertThat(commitOne(extend("wal/1", 400), idempotent(zero, 300, producerId, 0, 2, 1)))
            .isEqualTo(AppendOutcome.appended(2, 0));
        assertThat(store().batchesFrom(zero, 0, 10)).extracting(BatchLocation::position).containsExactly(100L, 300L);
    }

    @Test
    default void aProducerWithAnOlderEpochIsFenced() {
        PartitionKey zero = new PartitionKey(createTopic("orders", 1), 0);
        long producerId = store().nextProducerId();
        commitOne(first("wal/1", 100), idempotent(zero, 0, producerId, 1, 0, 1));

        assertThat(commitOne(extend("wal/1", 200), idempotent(zero, 100, producerId, 0, 1, 1)).failure())
            .isEqualTo(AppendFailure.STALE_PRODUCER_EPOCH);
        // A new epoch starts its sequences over; its first batch is no retry of the old epoch's.
        assertThat(commitOne(extend("wal/1", 300), idempotent(zero, 200, producerId, 2, 3, 1)).failure())
            .isEqualTo(AppendFailure.OUT_OF_ORDER_SEQUENCE);
        assertThat(commitOne(extend("wal/1", 400), idempotent(zero, 300, producerId, 2, 0, 1)))
            .isEqualTo(AppendOutcome.appended(1, 0));
        assertThat(commitOne(extend("wal/1", 500), idempotent(zero, 400, producerId, 1, 1, 1)).failure())
            .isEqualTo(AppendFailure.STALE_PRODUCER_EPOCH);
        assertThat(store().partitionOffsets().get(zero).nextOffset()).isEqualTo(2);
    }

    @Test
    default void sequencesAreKeptPerPartitionAndSurviveReopening() throws Exception {
        Uuid orders = createTopic("orders", 2);
        PartitionKey zero = new PartitionKey(orders, 0);
        PartitionKey one = new PartitionKey(orders, 1);
        long producerId = store().nextProducerId();
        assertThat(commit(first("wal/1", 200), idempotent(zero, 0, producerId, 0, 0, 2),
            idempotent(one, 100, producerId, 0, 0, 1)))
            .containsExactly(AppendOutcome.appended(0, 0), AppendOutcome.appended(0, 0));

        reopen();

        assertThat(commit(first("wal/2", 300), idempotent(zero, 0, producerId, 0, 0, 2),
            idempotent(one, 100, producerId, 0, 1, 1), idempotent(zero, 200, producerId, 0, 2, 1)))
            .containsExactly(AppendOutcome.duplicateOf(0, 0), AppendOutcome.appended(1, 0), AppendOutcome.appended(2, 0));
    }
}
