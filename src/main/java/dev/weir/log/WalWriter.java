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
 * <p>One thread does the writing and committing, object after object, so commits happen in the
 * order batches arrived (an idempotent producer's pipelined batches stay in sequence). While an
 * object is being written the next one fills: that is the group commit. An object is sealed when it
 * reaches {@code maxObjectBytes} or {@code maxAgeMs} after its first batch. Thread-safe.
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
    private final Thread thread;

    WalWriter(ObjectStore store, MetadataStore metadata, java.time.Clock clock, int maxObjectBytes, int maxAgeMs,
              long firstObjectId, CommitListener listener) {
        this.store = store;
        this.metadata = metadata;
        this.clock = clock;
        this.maxObjectBytes = maxObjectBytes;
        this.maxAgeNanos = TimeUnit.MILLISECONDS.toNanos(maxAgeMs);
        this.listener = listener;
        this.nextObjectId = new AtomicLong(firstObjectId);
        this.thread = new Thread(this::run, "weir-wal-writer");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    static String objectKey(long id) {
        return PREFIX + String.format("%020d", id);
    }

    static long objectId(String key) {
        return Long.parseLong(key.substring(PREFIX.length()));
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

    private void run() {
        while (true) {
            List<Pending> sealed = takeSealed();
            if (sealed == null) {
                return;
            }
            writeAndCommit(sealed);
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
                long waitNanos = firstPendingNanos + maxAgeNanos - System.nanoTime();
                if (pendingBytes >= maxObjectBytes || waitNanos <= 0 || closed) {
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
            taken = new ArrayList<>();
            long bytes = 0;
            while (!pending.isEmpty() && (taken.isEmpty() || bytes + pending.get(0).batch.sizeInBytes() <= maxBytes)) {
                Pending next = pending.remove(0);
                bytes += next.batch.sizeInBytes();
                taken.add(next);
            }
            pendingBytes -= bytes;
        }
        firstPendingNanos = System.nanoTime();
        return taken;
    }

    private void writeAndCommit(List<Pending> sealed) {
        String key = objectKey(nextObjectId.getAndIncrement());
        int size = HEADER_BYTES;
        for (Pending item : sealed) {
            size += item.batch.sizeInBytes();
        }
        ByteBuffer object = ByteBuffer.allocate(size);
        object.put(MAGIC).putLong(clock.millis());
        List<BatchAppend> appends = new ArrayList<>(sealed.size());
        for (Pending item : sealed) {
            ValidatedBatch batch = item.batch;
            appends.add(new BatchAppend(item.partition, object.position(), batch.sizeInBytes(), batch.offsetCount(),
                batch.maxTimestamp(), batch.producerId(), batch.producerEpoch(), batch.baseSequence()));
            object.put(batch.bytes().duplicate());
        }
        object.flip();
        List<AppendOutcome> outcomes;
        try {
            store.put(key, object);
            outcomes = metadata.commit(key, size, appends);
        } catch (StorageException | MetadataException e) {
            LOG.error("Writing WAL object {} with {} batches failed; its produce requests get KAFKA_STORAGE_ERROR",
                key, sealed.size(), e);
            for (Pending item : sealed) {
                item.result.complete(AppendOutcome.failed(Errors.KAFKA_STORAGE_ERROR, "The broker failed to store the batch."));
            }
            return;
        } catch (RuntimeException e) {
            LOG.error("Committing WAL object {} failed unexpectedly", key, e);
            for (Pending item : sealed) {
                item.result.complete(AppendOutcome.failed(Errors.UNKNOWN_SERVER_ERROR, "Internal error while storing."));
            }
            return;
        }
        List<Committed> committed = new ArrayList<>(sealed.size());
        for (int i = 0; i < sealed.size(); i++) {
            committed.add(new Committed(sealed.get(i).partition, appends.get(i), key, outcomes.get(i)));
        }
        try {
            listener.committed(committed);
        } finally {
            for (int i = 0; i < sealed.size(); i++) {
                sealed.get(i).result.complete(outcomes.get(i));
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
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
