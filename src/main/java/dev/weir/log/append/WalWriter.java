package dev.weir.log.append;

import dev.weir.log.batch.ValidatedBatch;
import dev.weir.log.format.Layout;
import dev.weir.log.format.WalObjectFormat;
import dev.weir.log.read.BatchReader;
import dev.weir.log.recovery.WalReplay;
import dev.weir.metadata.AppendFailure;
import dev.weir.metadata.AppendOutcome;
import dev.weir.metadata.BatchAppend;
import dev.weir.metadata.MetadataException;
import dev.weir.metadata.BatchCoordinator;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.WalWrite;
import dev.weir.storage.StorageException;
import dev.weir.storage.WalFile;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.ToLongFunction;
import org.apache.kafka.common.Uuid;

/**
 * Packs produced batches of all partitions into WAL objects, writes each object durably, then
 * commits it to the metadata store, which assigns the offsets. Only then are the appends completed,
 * so an acknowledged batch is durable.
 *
 * <p>Where objects go is the {@link WalTarget}'s business: packed into WAL files on local disk
 * ({@link PackedWalTarget}), or each an object of its own on S3 ({@link ObjectWalTarget}).
 *
 * <p>An object that cannot be stored fails its produce requests with KAFKA_STORAGE_ERROR; the log says
 * so once until objects are stored again ({@link WalFailureLog}). One that was written but whose
 * commit failed is discarded by the target first (made void in its WAL file), so that start-up does not
 * commit it (see {@link WalReplay}); where the commit may have happened all the same (a database across
 * the network), the producers are told the outcome is unknown.
 *
 * <p>A pipeline of three stages: the sealing thread closes an object when it reaches
 * {@code maxObjectBytes} or {@code maxAgeMs} after its first batch, but only when one of
 * {@code maxInFlightObjects} write slots is free (while it waits, the object keeps filling: that is
 * the group commit), and, where the target wants it, at once when no other object is being written; writer threads store objects
 * concurrently; the committing thread commits them strictly in the order they were sealed, so offsets
 * follow arrival order and an idempotent producer's pipelined batches stay in sequence. With nothing
 * else in flight the sealing thread writes and commits the object itself. Thread-safe.
 *
 * <p>Within an object the batches are grouped by partition (in arrival order otherwise), so a reader
 * finds a partition's batches of one object side by side. Since offsets follow sealing order, the
 * sealing thread knows the base offset each batch will get and writes it (with the leader epoch) into
 * the batch before it is stored; the commit confirms it. A batch whose offset was not known (or
 * turned out different: a duplicate, a failed object before it) is marked so, and readers rebuild its
 * header as they send it.
 */
public final class WalWriter implements AutoCloseable {
    /** Objects up to this size are written and committed by the sealing thread when nothing else is in flight. */
    private static final int INLINE_MAX_BYTES = 256 * 1024;
    /** Zeros that pad an object to the end of its last page, where the target asks for it; never changed. */
    private static final ByteBuffer PADDING = ByteBuffer.allocate(WalFile.ALIGNMENT);

    /** Told, on the committing thread, of each commit, and of each commit whose outcome is unknown. */
    public interface CommitListener {
        /** After each commit, with the committed batches in order. */
        void committed(List<Committed> batches);

        /**
         * After a commit failed once it was sent: the metadata store may have made it all the same (a
         * database across the network that committed and whose answer was lost), and so have taken offsets
         * that {@link #committed} never hears of.
         */
        void outcomeUnknown();
    }

    /** {@code finalInObject}: the stored bytes carry the offsets the commit gave the batch. */
    public record Committed(PartitionKey partition, BatchAppend append, String objectKey, AppendOutcome outcome,
                     boolean finalInObject) {
    }

    private record Pending(PartitionKey partition, ValidatedBatch batch, CompletableFuture<AppendOutcome> result) {
    }

    /**
     * A sealed object on its way: where it goes (null if no place could be made for it), its batches,
     * bytes and the future of its write.
     */
    private record Sealed(WalPlacement placement, List<Pending> batches, List<BatchAppend> appends,
                          long[] expectedBaseOffsets, int size, ByteBuffer[] parts, CompletableFuture<Void> written) {
    }

    private final BatchCoordinator metadata;
    private final java.time.Clock clock;
    private final int maxObjectBytes;
    private final long maxAgeNanos;
    private final CommitListener listener;
    /** A partition's next offset as committed, or -1 for a partition the log does not know. */
    private final ToLongFunction<PartitionKey> committedNextOffset;
    /**
     * The base offset the next sealed batch of each partition will get, or {@link #UNKNOWN}; only the
     * sealing thread touches it.
     */
    private final Map<PartitionKey, Long> expectedNextOffsets = new HashMap<>();
    /** Partitions whose batches got other offsets than expected, told by the committing thread. */
    private final Set<PartitionKey> mispredicted = ConcurrentHashMap.newKeySet();
    /** Deleted topics whose expected offsets the sealing thread is still to forget. */
    private final Set<Uuid> deletedTopics = ConcurrentHashMap.newKeySet();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private List<Pending> pending = new ArrayList<>();
    private long pendingBytes;
    private long firstPendingNanos;
    private boolean closed;
    private final Thread sealer;
    private final Thread committer;
    private final java.util.concurrent.ExecutorService writers;
    private final java.util.concurrent.Semaphore writeSlots;
    private final AtomicLong inFlightObjects = new AtomicLong();
    private final WalTarget target;
    private final WalFailureLog failureLog = new WalFailureLog();
    /** Set when storing an object failed: the next commit is synced. Touched only where objects are committed, one at a time. */
    private volatile boolean syncNextCommit;
    /** The key of the file of the latest committed object: it and later files may still be written. */
    private volatile String lastCommittedFile;
    private final java.util.concurrent.BlockingQueue<Sealed> toCommit = new java.util.concurrent.LinkedBlockingQueue<>();
    private static final Sealed END = new Sealed(null, List.of(), List.of(), null, 0, null, null);
    private static final long UNKNOWN = -1;

    /** A writer into {@code target}, which it closes when it is closed. */
    public WalWriter(WalTarget target, BatchCoordinator metadata, java.time.Clock clock, int maxObjectBytes, int maxAgeMs,
              int maxInFlightObjects, ToLongFunction<PartitionKey> committedNextOffset, CommitListener listener) {
        this.target = target;
        this.metadata = metadata;
        this.clock = clock;
        this.maxObjectBytes = maxObjectBytes;
        this.maxAgeNanos = TimeUnit.MILLISECONDS.toNanos(maxAgeMs);
        this.listener = listener;
        this.committedNextOffset = committedNextOffset;
        this.writeSlots = new java.util.concurrent.Semaphore(maxInFlightObjects);
        java.util.concurrent.atomic.AtomicInteger writerCount = new java.util.concurrent.atomic.AtomicInteger();
        this.writers = java.util.concurrent.Executors.newFixedThreadPool(maxInFlightObjects, runnable -> {
            Thread writer = new Thread(runnable, "weir-wal-write-" + writerCount.incrementAndGet());
            writer.setDaemon(true);
            return writer;
        });
        this.sealer = new Thread(this::seal, "weir-wal-seal");
        this.sealer.setDaemon(true);
        dev.weir.runtime.FatalErrors.haltIfItDies(sealer);
        this.committer = new Thread(this::commitInOrder, "weir-wal-commit");
        this.committer.setDaemon(true);
        dev.weir.runtime.FatalErrors.haltIfItDies(committer);
        this.sealer.start();
        this.committer.start();
    }

    static String objectKey(long id) {
        return Layout.objectKey(Layout.WAL_PREFIX, id);
    }

    static long objectId(String key) {
        return Layout.objectId(Layout.WAL_PREFIX, key);
    }

    public CompletableFuture<AppendOutcome> append(PartitionKey partition, ValidatedBatch batch) {
        CompletableFuture<AppendOutcome> result = new CompletableFuture<>();
        lock.lock();
        try {
            if (closed) {
                result.complete(AppendOutcome.failed(AppendFailure.SHUTTING_DOWN, "The broker is shutting down."));
                return result;
            }
            if (pending.isEmpty()) {
                firstPendingNanos = System.nanoTime();
            }
            pending.add(new Pending(partition, batch, result));
            pendingBytes += batch.sizeInBytes();
            if (pending.size() == 1 || pendingBytes >= maxObjectBytes) {
                arrived.signal();
            }
        } finally {
            lock.unlock();
        }
        return result;
    }

    /** The sealing stage: waits for a free write slot, then for a due object, and starts writing it. */
    private void seal() {
        while (true) {
            writeSlots.acquireUninterruptibly();
            List<Pending> batches = takeSealed();
            if (batches == null) {
                toCommit.add(END);
                return;
            }
            Sealed sealed = build(batches);
            if (inFlightObjects.getAndIncrement() == 0 && sealed.size <= INLINE_MAX_BYTES) {
                // Nothing else in flight, so nothing to keep in order with: this thread writes and commits a
                // small object itself, sparing a lone producer two thread hand-offs on its way to the
                // acknowledgement. Large objects (a loaded broker) go through the pipeline, so the next object
                // is sealed and written while this one is.
                writeAndCommit(sealed);
                continue;
            }
            toCommit.add(sealed);
            writers.execute(() -> write(sealed));
        }
    }

    private void writeAndCommit(Sealed sealed) {
        write(sealed);
        try {
            commit(sealed);
        } finally {
            inFlightObjects.decrementAndGet();
            writeSlots.release();
        }
    }

    /** The committing stage: commits written objects in the order they were sealed. */
    private void commitInOrder() {
        while (true) {
            Sealed sealed;
            try {
                sealed = toCommit.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (sealed == END) {
                return;
            }
            try {
                commit(sealed);
            } finally {
                inFlightObjects.decrementAndGet();
                writeSlots.release();
                lock.lock();
                try {
                    arrived.signal();
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /** Waits until an object is due, then takes its batches; null once closed and drained. */
    private List<Pending> takeSealed() {
        lock.lock();
        try {
            while (true) {
                if (pending.isEmpty()) {
                    if (closed) {
                        return null;
                    }
                    arrived.awaitUninterruptibly();
                    continue;
                }
                // With no other object being written there is nothing to group with: seal now, so a lone
                // producer waits only for its own write. Under load the slots are busy and objects fill.
                boolean idle = target.sealsWhenIdle() && inFlightObjects.get() == 0;
                long waitNanos = firstPendingNanos + maxAgeNanos - System.nanoTime();
                if (pendingBytes >= maxObjectBytes || waitNanos <= 0 || idle || closed) {
                    return takeUpTo(maxObjectBytes);
                }
                try {
                    arrived.awaitNanos(waitNanos);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private List<Pending> takeUpTo(long maxBytes) {
        List<Pending> taken;
        if (pendingBytes <= maxBytes && pending.size() <= WalObjectFormat.MAX_BATCHES) {
            taken = pending;
            pending = new ArrayList<>();
            pendingBytes = 0;
        } else {
            int count = 0;
            long bytes = 0;
            while (count < pending.size() && count < WalObjectFormat.MAX_BATCHES
                && (count == 0 || bytes + pending.get(count).batch.sizeInBytes() <= maxBytes)) {
                bytes += pending.get(count).batch.sizeInBytes();
                count++;
            }
            List<Pending> head = pending.subList(0, count);
            taken = new ArrayList<>(head);
            head.clear();
            pendingBytes -= bytes;
        }
        firstPendingNanos = System.nanoTime();
        return taken;
    }

    /** The key of the file being written, or of a later one: files from it on must not be deleted. */
    public String oldestOpenFile() {
        return lastCommittedFile;
    }

    /** Forgets what the writer expected of a deleted topic's partitions. */
    public void topicDeleted(Uuid topicId) {
        deletedTopics.add(topicId);
    }

    private Sealed build(List<Pending> arrived) {
        if (!deletedTopics.isEmpty()) {
            forgetDeletedTopics();
        }
        List<Pending> batches = groupedByPartition(arrived);
        int headerBytes = WalObjectFormat.headerBytes(batches.size());
        int size = headerBytes;
        List<PartitionKey> partitions = new ArrayList<>(batches.size());
        for (Pending item : batches) {
            size += item.batch.sizeInBytes();
            partitions.add(item.partition);
        }
        WalPlacement placement;
        try {
            placement = target.place(size);
        } catch (StorageException e) {
            CompletableFuture<Void> failed = CompletableFuture.failedFuture(e);
            return new Sealed(null, batches, List.of(), null, size, null, failed);
        }
        long start = placement.position();
        // The object is written from the batches' own buffers (a gathering write), not copied together first.
        ByteBuffer[] parts = new ByteBuffer[batches.size() + 2];
        parts[0] = WalObjectFormat.header(clock.millis(), size, partitions);
        List<BatchAppend> appends = new ArrayList<>(batches.size());
        long[] expected = new long[batches.size()];
        long position = start + headerBytes;
        for (int i = 0; i < batches.size(); i++) {
            Pending item = batches.get(i);
            ValidatedBatch batch = item.batch;
            appends.add(new BatchAppend(item.partition, position, batch.sizeInBytes(), batch.offsetCount(),
                batch.maxTimestamp(), batch.producerId(), batch.producerEpoch(), batch.baseSequence()));
            expected[i] = expectBaseOffset(item.partition, batch.offsetCount());
            if (expected[i] != UNKNOWN) {
                BatchReader.writeFinalHeader(batch.bytes(), expected[i]);
            }
            parts[i + 1] = batch.bytes().duplicate();
            position += batch.sizeInBytes();
        }
        parts[batches.size() + 1] = PADDING.duplicate().limit((int) (placement.footprint() - size));
        return new Sealed(placement, batches, appends, expected, size, parts, new CompletableFuture<>());
    }

    /** Drops the expected offsets of the topics deleted since the last object, in one pass over them. */
    private void forgetDeletedTopics() {
        Set<Uuid> deleted = Set.copyOf(deletedTopics);
        deletedTopics.removeAll(deleted);
        expectedNextOffsets.keySet().removeIf(key -> deleted.contains(key.topicId()));
    }

    /** The batches with each partition's side by side, in the order the partitions first came. */
    private static List<Pending> groupedByPartition(List<Pending> batches) {
        Map<PartitionKey, List<Pending>> byPartition = new LinkedHashMap<>();
        for (Pending item : batches) {
            byPartition.computeIfAbsent(item.partition, key -> new ArrayList<>(2)).add(item);
        }
        if (byPartition.size() == batches.size()) {
            return batches;
        }
        List<Pending> grouped = new ArrayList<>(batches.size());
        byPartition.values().forEach(grouped::addAll);
        return grouped;
    }

    /**
     * The base offset a batch of {@code count} offsets sealed now will get, and the partition's next one
     * moved past it; {@link #UNKNOWN} while earlier objects that may change it are still in flight.
     * Objects are committed in sealing order, so with nothing in flight the log's next offset is exact.
     */
    private long expectBaseOffset(PartitionKey partition, int count) {
        if (!mispredicted.isEmpty() && mispredicted.remove(partition)) {
            expectedNextOffsets.put(partition, UNKNOWN);
        }
        Long next = expectedNextOffsets.get(partition);
        long base;
        if (next != null && next != UNKNOWN) {
            base = next;
        } else if (next == null || inFlightObjects.get() == 0) {
            // Never sealed before (so in no object in flight), or everything sealed is committed.
            base = committedNextOffset.applyAsLong(partition);
        } else {
            return UNKNOWN;
        }
        if (base < 0) {
            expectedNextOffsets.remove(partition);
            return UNKNOWN;
        }
        expectedNextOffsets.put(partition, base + count);
        return base;
    }

    /** Writes the object to its place, unless sealing it failed already. */
    private void write(Sealed sealed) {
        if (sealed.written.isDone()) {
            return;
        }
        try {
            target.write(sealed.placement, sealed.parts);
            sealed.written.complete(null);
        } catch (RuntimeException e) {
            sealed.written.completeExceptionally(e);
        }
    }

    private void commit(Sealed sealed) {
        List<AppendOutcome> outcomes;
        WalPlacement placement = sealed.placement;
        try {
            try {
                sealed.written.join();
            } catch (java.util.concurrent.CompletionException e) {
                failed(sealed, e.getCause() != null ? e.getCause() : e, false);
                return;
            }
            try {
                // Where start-up replays uncommitted objects the commit is not synced: the object is on disk
                // already, and start-up commits it again if this commit is lost. After a failure the next commit
                // is synced, so an object whose commit failed and that could not be made void (its producer was
                // told the outcome is unknown) can never be committed at start-up ahead of acknowledged ones,
                // which would move their offsets.
                outcomes = metadata.commit(new WalWrite(placement.key(), placement.position() + sealed.size,
                    placement.firstInKey(), syncNextCommit || !target.replaysUncommitted(), target.replaysUncommitted()),
                    sealed.appends);
                syncNextCommit = false;
                lastCommittedFile = placement.key();
                failureLog.stored();
            } catch (RuntimeException e) {
                failed(sealed, e, true);
                return;
            }
        } finally {
            if (placement != null) {
                target.commitOver(placement);
            }
        }
        List<Committed> committed = new ArrayList<>(sealed.batches.size());
        for (int i = 0; i < sealed.batches.size(); i++) {
            PartitionKey partition = sealed.batches.get(i).partition;
            AppendOutcome outcome = outcomes.get(i);
            long expected = sealed.expectedBaseOffsets[i];
            boolean asExpected = expected != UNKNOWN && outcome.tookNewOffsets() && outcome.baseOffset() == expected;
            if (expected != UNKNOWN && !asExpected) {
                mispredicted.add(partition);
            }
            committed.add(new Committed(partition, sealed.appends.get(i), placement.key(), outcome, asExpected));
        }
        try {
            listener.committed(committed);
        } finally {
            for (int i = 0; i < sealed.batches.size(); i++) {
                sealed.batches.get(i).result.complete(outcomes.get(i));
            }
        }
    }

    /**
     * Answers the object's batches with the error its failure calls for, and has the next object go
     * somewhere new and sync its commit. An object that was written (or may have been) is discarded by
     * the target first, so that start-up does not commit what its producers were told failed; if even
     * that fails, or the commit itself may have happened (a database across the network may fail after
     * committing), they get REQUEST_TIMED_OUT, which tells a producer the outcome is unknown, rather than
     * an error that says nothing was stored.
     */
    private void failed(Sealed sealed, Throwable cause, boolean commitTried) {
        if (commitTried) {
            listener.outcomeUnknown();
        }
        target.startOver();
        syncNextCommit = true;
        boolean storage = cause instanceof StorageException || cause instanceof MetadataException;
        AppendFailure failure = storage ? AppendFailure.STORAGE_FAILED : AppendFailure.INTERNAL_ERROR;
        String message = storage ? "The broker failed to store the batch." : "Internal error while storing.";
        String where = sealed.placement == null ? "a new WAL object" : sealed.placement.key();
        RuntimeException discardFailure = sealed.placement == null ? null : discard(sealed);
        if (discardFailure != null || (commitTried && !target.replaysUncommitted())) {
            failure = AppendFailure.OUTCOME_UNKNOWN;
            message = discardFailure != null
                ? "The broker failed to commit the batch, and may still commit it when it restarts."
                : "The broker's commit of the batch failed, and may have happened all the same.";
        }
        failureLog.refused(sealed.batches.size(), where, failure.name(), cause);
        if (discardFailure != null) {
            failureLog.outcomeUnknown(where, discardFailure);
        }
        for (Pending item : sealed.batches) {
            // Objects sealed after this one counted on its offsets.
            mispredicted.add(item.partition);
            item.result.complete(AppendOutcome.failed(failure, message));
        }
    }

    /** Has the target discard the object; returns the failure, if it failed. */
    private RuntimeException discard(Sealed sealed) {
        try {
            target.discard(sealed.placement, sealed.parts);
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            sealer.join(TimeUnit.SECONDS.toMillis(30));
            committer.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writers.shutdown();
        target.close();
    }
}
