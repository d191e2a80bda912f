package dev.weir.metadata;

/**
 * Why a batch was not appended, in the storage core's terms; the protocol edge chooses the Kafka error
 * for each ({@code ErrorTranslator}), so the log and the metadata stores never speak Kafka's error codes.
 */
public enum AppendFailure {
    /** The partition was deleted before the batch was committed. */
    PARTITION_DELETED,
    /** The producer's epoch is older than the one the partition has seen: a fenced, zombie producer. */
    STALE_PRODUCER_EPOCH,
    /** The batch's first sequence does not follow the last one the producer wrote to the partition. */
    OUT_OF_ORDER_SEQUENCE,
    /** The broker is shutting down and takes no more writes; another broker (or this one, restarted) will. */
    SHUTTING_DOWN,
    /** Storing the batch failed, and nothing of it will appear: the producer may retry. */
    STORAGE_FAILED,
    /** Storing the batch failed in a way that may still see it committed (after a restart, say). */
    OUTCOME_UNKNOWN,
    /** A bug: an invariant of the write path broke. */
    INTERNAL_ERROR
}
