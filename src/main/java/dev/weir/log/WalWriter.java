package dev.weir.log;

import dev.weir.metadata.AppendOutcome;
import dev.weir.metadata.BatchAppend;
import dev.weir.metadata.MetadataException;
import dev.weir.metadata.MetadataStore;
import dev.weir.metadata.PartitionKey;
import dev.weir.storage.ObjectStore;
import dev.weir.storage.StorageException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Packs produced batches of all partitions into WAL objects, writes each object durably, then
 * commits it to the metadata store, which assigns the offsets. Only then are the appends completed,
 * so an acknowledged batch is durable.
 *
 * <p>A pipeline of three stages: the sealing thread closes an object when it reaches
 * {@code maxObjectBytes} or {@code maxAgeMs} after its first batch, but only when one of
 * {@code maxInFlightObjects} write slots is free (while it waits, the object keeps filling: that is
 * the group commit), and at once when no other object is being written; writer threads store objects concurrently; the committing thread commits them
 * strictly in the order they were sealed, so offsets follow arrival order and an idempotent
 * producer's pipelined batches stay in sequence. Thread-safe.
 */
final class WalWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WalWriter.class);
    static final String PREFIX = "wal/";
    /** Every WAL object starts with this: 8 bytes of magic, then the 8-byte creation time. */
    static final byte[] MAGIC = {'W', 'E', 'I', 'R', 'W', 'A', 'L', '1'};
    static final int HEADER_BYTES = 16;

    /** Called on the writer thread after each commit, with the committed batches in order. */
    interface CommitListener {
        void committed(List<Committed> batches);
    }

    record Committed(PartitionKey partition, BatchAppend append, String objectKey, AppendOutcome outcome) {
    }

    private record Pending(PartitionKey partition, ValidatedBatch batch, CompletableFuture<AppendOutcome> result) {
    }

    /** A sealed object on its way: its key, batches, bytes and the future of its write. */
    private record Sealed(String key, List<Pending> batches, List<BatchAppend> appends, int size, ByteBuffer[] parts,
                          CompletableFuture<Void> written) {
    }

    private final ObjectStore store;
    private final MetadataStore metadata;
    private final java.time.Clock clock;
    private final int maxObjectBytes;
    private final long maxAgeNanos;
    private final CommitListener listener;
    private final AtomicLong nextObjectId;
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
    private static final int RESERVE_AHEAD = 16;
    /**
     * Files are reserved ahead of use on a thread of their own, so sealing never waits for the directory
     * sync. Ids below {@code reservedUpTo} are reserved; {@code inFlightReservation} (if any) reserves up
     * to {@code requestedUpTo}. Only the sealing thread touches these three.
     */
    private long reservedUpTo;
    private long requestedUpTo;
    private java.util.concurrent.CompletableFuture<Long> inFlightReservation;
    private final java.util.concurrent.ExecutorService reserver;
    private final java.util.concurrent.BlockingQueue<Sealed> toCommit = new java.util.concurrent.LinkedBlockingQueue<>();
    private static final Sealed END = new Sealed(null, List.of(), List.of(), 0, null, null);

    WalWriter(ObjectStore store, MetadataStore metadata, java.time.Clock clock, int maxObjectBytes, int maxAgeMs,
              int maxInFlightObjects, long firstObjectId, CommitListener listener) {
        this.store = store;
        this.metadata = metadata;
        this.clock = clock;
        this.maxObjectBytes = maxObjectBytes;
        this.maxAgeNanos = TimeUnit.MILLISECONDS.toNanos(maxAgeMs);
        this.listener = listener;
        this.nextObjectId = new AtomicLong(firstObjectId);
        this.writeSlots = new java.util.concurrent.Semaphore(maxInFlightObjects);
        java.util.concurrent.atomic.AtomicInteger writerCount = new java.util.concurrent.atomic.AtomicInteger();
        this.writers = java.util.concurrent.Executors.newFixedThreadPool(maxInFlightObjects, runnable -> {
            Thread writer = new Thread(runnable, "weir-wal-write-" + writerCount.incrementAndGet());
            writer.setDaemon(true);
            return writer;
        });
        this.reservedUpTo = firstObjectId;
        this.requestedUpTo = firstObjectId;
        this.reserver = java.util.concurrent.Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "weir-wal-reserve");
            thread.setDaemon(true);
            return thread;
        });
        this.sealer = new Thread(this::seal, "weir-wal-seal");
        this.sealer.setDaemon(true);
        this.committer = new Thread(this::commitInOrder, "weir-wal-commit");
        this.committer.setDaemon(true);
        this.sealer.start();
        this.committer.start();
    }

    static String objectKey(long id) {
        return Log.objectKey(PREFIX, id);
    }

    static long objectId(String key) {
        return Log.objectId(PREFIX, key);
    }

    CompletableFuture<AppendOutcome> append(PartitionKey partition, ValidatedBatch batch) {
        CompletableFuture<AppendOutcome> result = new CompletableFuture<>();
        lock.lock();
        try {
            if (closed) {
                result.complete(AppendOutcome.failed(Errors.NOT_LEADER_OR_FOLLOWER, "The broker is shutting down."));
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
            if (inFlightObjects.getAndIncrement() == 0) {
                // Nothing else in flight, so nothing to keep in order with: this thread writes and commits the
                // object itself, sparing the lone producer two thread hand-offs on its way to the acknowledgement.
                writeAndCommit(sealed);
                continue;
            }
            toCommit.add(sealed);
            writers.execute(() -> {
                try {
                    store.put(sealed.key, sealed.parts());
                    sealed.written.complete(null);
                } catch (RuntimeException e) {
                    sealed.written.completeExceptionally(e);
                }
            });
        }
    }

    private void writeAndCommit(Sealed sealed) {
        try {
            store.put(sealed.key, sealed.parts());
            sealed.written.complete(null);
        } catch (RuntimeException e) {
            sealed.written.completeExceptionally(e);
        }
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
                boolean idle = inFlightObjects.get() == 0;
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
        if (pendingBytes <= maxBytes) {
            taken = pending;
            pending = new ArrayList<>();
            pendingBytes = 0;
        } else {
            int count = 0;
            long bytes = 0;
            while (count < pending.size()
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

    /**
     * Creates the next files ahead, with one directory sync for many, so each object's write syncs only
     * its data. Waits only when object {@code id} is in a reservation still running (the two would race
     * for the file); an id never reserved is created by its write.
     */
    private void reserveAhead(long id) {
        if (inFlightReservation != null
            && (inFlightReservation.isDone() || (id >= reservedUpTo && id < requestedUpTo))) {
            reservedUpTo = Math.max(reservedUpTo, inFlightReservation.join());
            inFlightReservation = null;
        }
        if (inFlightReservation == null && requestedUpTo - id <= RESERVE_AHEAD / 2) {
            long from = Math.max(requestedUpTo, id + 1);
            long to = from + RESERVE_AHEAD;
            requestedUpTo = to;
            inFlightReservation = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                List<String> keys = new ArrayList<>();
                for (long next = from; next < to; next++) {
                    keys.add(objectKey(next));
                }
                try {
                    store.reserve(keys);
                    return to;
                } catch (StorageException e) {
                    LOG.warn("Reserving WAL objects failed; objects are created as they are written", e);
                    return from;
                }
            }, reserver);
        }
    }

    private Sealed build(List<Pending> batches) {
        long id = nextObjectId.getAndIncrement();
        reserveAhead(id);
        String key = objectKey(id);
        int size = HEADER_BYTES;
        for (Pending item : batches) {
            size += item.batch.sizeInBytes();
        }
        // The object is written from the batches' own buffers (a gathering write), not copied together first.
        ByteBuffer[] parts = new ByteBuffer[batches.size() + 1];
        parts[0] = ByteBuffer.allocate(HEADER_BYTES).put(MAGIC).putLong(clock.millis()).flip();
        List<BatchAppend> appends = new ArrayList<>(batches.size());
        long position = HEADER_BYTES;
        for (int i = 0; i < batches.size(); i++) {
            Pending item = batches.get(i);
            ValidatedBatch batch = item.batch;
            appends.add(new BatchAppend(item.partition, position, batch.sizeInBytes(), batch.offsetCount(),
                batch.maxTimestamp(), batch.producerId(), batch.producerEpoch(), batch.baseSequence()));
            parts[i + 1] = batch.bytes().duplicate();
            position += batch.sizeInBytes();
        }
        return new Sealed(key, batches, appends, size, parts, new CompletableFuture<>());
    }

    private void commit(Sealed sealed) {
        List<AppendOutcome> outcomes;
        try {
            sealed.written.join();
            outcomes = metadata.commit(sealed.key, sealed.size, sealed.appends);
        } catch (java.util.concurrent.CompletionException | StorageException | MetadataException e) {
            Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
            boolean storage = cause instanceof StorageException || cause instanceof MetadataException;
            LOG.error("Writing WAL object {} with {} batches failed; its produce requests get {}", sealed.key,
                sealed.batches.size(), storage ? "KAFKA_STORAGE_ERROR" : "UNKNOWN_SERVER_ERROR", cause);
            Errors error = storage ? Errors.KAFKA_STORAGE_ERROR : Errors.UNKNOWN_SERVER_ERROR;
            for (Pending item : sealed.batches) {
                item.result.complete(AppendOutcome.failed(error, "The broker failed to store the batch."));
            }
            return;
        } catch (RuntimeException e) {
            LOG.error("Committing WAL object {} failed unexpectedly", sealed.key, e);
            for (Pending item : sealed.batches) {
                item.result.complete(AppendOutcome.failed(Errors.UNKNOWN_SERVER_ERROR, "Internal error while storing."));
            }
            return;
        }
        List<Committed> committed = new ArrayList<>(sealed.batches.size());
        for (int i = 0; i < sealed.batches.size(); i++) {
            committed.add(new Committed(sealed.batches.get(i).partition, sealed.appends.get(i), sealed.key, outcomes.get(i)));
        }
        try {
            listener.committed(committed);
        } finally {
            for (int i = 0; i < sealed.batches.size(); i++) {
                sealed.batches.get(i).result.complete(outcomes.get(i));
            }
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
        reserver.shutdown();
    }
}
