package dev.weir.metadata;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The owner of partition offsets and producer state: commits written objects, assigning offsets and
 * checking idempotent producers' sequences inside one transaction, so that any broker may commit to
 * any partition. One role of the {@link MetadataStore}; thread-safe, every method may block on I/O and
 * throws {@link MetadataException} on failure.
 */
public interface BatchCoordinator {
    /** The offsets of every partition, read once at start-up. */
    Map<PartitionKey, PartitionOffsets> partitionOffsets();

    /**
     * Commits one written WAL object: assigns offsets to its batches in order, checks idempotent-producer
     * sequences, and records the batches' locations, all in one transaction. A batch that fails its
     * check gets an error outcome and is not indexed; the others are unaffected. WAL objects are written
     * one after another into WAL files: the first object of a file records the file, later ones extend
     * it, which fails if the file is no longer recorded. Unless {@link WalWrite#sync} is set the commit
     * may reach the disk later; every other write of this store syncs before it returns, and with it
     * every commit before it.
     */
    List<AppendOutcome> commit(WalWrite written, List<BatchAppend> batches);

    /** The newest WAL file that had an object committed (it may have been deleted since). */
    Optional<String> lastWalFile();

    /**
     * Moves the log start offset forward (never back) and drops index rows wholly before it; returns the
     * log start offset after the call. An {@code offset} past the partition's next offset is a bug of the
     * caller, not a failure of the database (DeleteRecords checks the offset against the high watermark
     * first, retention takes it from index rows): it throws {@link IllegalArgumentException} and changes
     * nothing. A partition that does not exist (its topic was deleted) throws {@link MetadataException}.
     */
    long advanceLogStartOffset(PartitionKey partition, long offset);

    /** A producer id never handed out before. */
    long nextProducerId();

    /**
     * Tells {@code listener}, on a thread of the store's, the next offsets of partitions that other
     * writers (other brokers on the same database) committed to, soon after their commits; and, after a
     * time in which it may have missed some (at the start, after a lost connection), the next offsets of
     * every partition. A store that only one writer opens (SQLite) never calls it. Closing the result
     * stops it.
     */
    default AutoCloseable followCommits(java.util.function.Consumer<Map<PartitionKey, Long>> listener) {
        return () -> { };
    }
}
