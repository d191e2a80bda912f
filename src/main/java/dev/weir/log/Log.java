package dev.weir.log;

import dev.weir.log.append.ObjectWalTarget;
import dev.weir.log.append.PackedWalTarget;
import dev.weir.log.append.WalTarget;
import dev.weir.log.append.WalWriter;
import dev.weir.log.format.Layout;
import dev.weir.log.batch.ValidatedBatch;
import dev.weir.log.read.BatchReader;
import dev.weir.log.read.SendMode;
import dev.weir.log.recovery.WalReplay;
import dev.weir.metadata.AppendOutcome;
import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.MetadataStore;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.PartitionOffsets;
import dev.weir.storage.ObjectStore;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.utils.BufferSupplier;
import org.apache.kafka.common.utils.CloseableIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log of every partition: {@link #append} hands batches to the WAL writer, {@link #read} finds
 * committed batches (in-memory tail first, then the index database), reads them from the object
 * store, verifies their CRC and writes their real base offsets in. Fetches wait for commits with
 * {@link #awaitCommit}. Thread-safe; {@link #read} and the offset look-ups block on I/O and belong
 * on an I/O thread.
 */
public final class Log implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Log.class);
    /** The leader epoch a single node reports and writes into every batch it serves. */
    public static final int LEADER_EPOCH = Layout.LEADER_EPOCH;
    private static final int MAX_BATCHES_PER_READ = 2048;
    private static final int FIRST_PAGE_BATCHES = 16;
    /**
     * Unreferenced objects forgotten in one metadata transaction and then deleted together: as many as one
     * S3 DeleteObjects request takes.
     */
    private static final int OBJECTS_PER_DELETION = 1000;

    private final ObjectStore store;
    private final MetadataStore metadata;
    private final Clock clock;
    private final LogSettings settings;
    private final ScheduledExecutorService timer;
    private final Map<PartitionKey, PartitionState> partitions = new ConcurrentHashMap<>();
    private final Map<PartitionKey, Set<CompletableFuture<Void>>> waiters = new ConcurrentHashMap<>();
    private final WalWriter writer;
    /** Other brokers' commits to the same database, noticed; stopped on close. */
    private final AutoCloseable commitFeed;
    private final BatchReader reader;
    /** Pages of the index below the tail, for catch-up reads. */
    private final IndexPages indexPages;
    /** Ids of new WAL files and segment objects, one sequence for both. */
    private final ObjectIds objectIds;
    /**
     * Set on the committing thread when a commit's outcome was unknown, until the partitions' states have
     * caught up with the metadata store, which may hold offsets committed without this broker hearing.
     */
    private volatile boolean storeMayBeAhead;

    /** The log of broker {@code nodeId}, whose id goes into the keys of the objects it writes. */
    public Log(ObjectStore store, MetadataStore metadata, Clock clock, int nodeId, LogSettings settings,
               ScheduledExecutorService timer) {
        this.store = store;
        this.metadata = metadata;
        this.clock = clock;
        this.settings = settings;
        this.timer = timer;
        boolean packed = store.walFiles().isPresent();
        List<String> walFiles = store.list(Layout.WAL_PREFIX);
        Set<String> committed = metadata.committedObjectKeys();
        if (packed && WalReplay.replay(store, metadata, walFiles, committed) > 0) {
            committed = metadata.committedObjectKeys();
        }
        // Where WAL objects are objects of their own, others are this broker's to delete only if it wrote them:
        // another broker sharing the store may be writing its own right now.
        java.util.function.LongPredicate ours = packed ? id -> true : id -> ObjectIds.node(id) == Math.floorMod(nodeId, ObjectIds.NODES);
        // A WAL file whose objects were all merged is deleted, but replay still counts on new files coming after it.
        // New ids come after every id in use, so WAL files keep their order, and after that of the last WAL file
        // committed to, which may have been deleted since, because replay counts on new files coming after it.
        long usedIds = Math.max(recover(committed, Layout.WAL_PREFIX, walFiles, ours,
                packed ? "WAL files (made ahead, or whose objects never reached a commit)" : "WAL objects that never reached a commit"),
            metadata.lastWalFile().map(key -> Layout.objectId(Layout.WAL_PREFIX, key)).orElse(-1L));
        usedIds = Math.max(usedIds, recover(committed, Layout.SEGMENT_PREFIX, store.list(Layout.SEGMENT_PREFIX),
            ours, "segment objects (merging or compaction was cut off)"));
        this.objectIds = new ObjectIds(clock, nodeId, usedIds);
        this.reader = new BatchReader(store);
        this.indexPages = new IndexPages(metadata::batchesFrom, settings.indexCacheMaxBytes(),
            java.time.Duration.ofMillis(settings.indexPageTtlMs()), System::nanoTime);
        metadata.partitionOffsets().forEach((key, offsets) -> partitions.put(key,
            new PartitionState(offsets.logStartOffset(), offsets.nextOffset())));
        WalTarget target = packed
            ? new PackedWalTarget(store, settings.walFileBytes(), settings.walFileRollMs(), objectIds::next)
            : new ObjectWalTarget(store, objectIds::next);
        this.writer = new WalWriter(target, metadata, clock, settings.walObjectMaxBytes(), settings.walObjectMaxAgeMs(),
            settings.walMaxInFlightObjects(), this::committedNextOffset, new WalWriter.CommitListener() {
                @Override
                public void committed(List<WalWriter.Committed> batches) {
                    Log.this.committed(batches);
                }

                @Override
                public void outcomeUnknown() {
                    storeMayBeAhead = true;
                }
            });
        this.commitFeed = metadata.followCommits(this::committedElsewhere);
    }

    /**
     * Deletes the objects under {@code prefix} (listed in {@code stored}) whose ids are {@code ours} and that
     * were written but never committed (a crash between the two: a WAL file made ahead or never reaching
     * a commit, or a segment whose index switch never happened); returns the largest id in use under that
     * prefix, or -1.
     */
    private long recover(Set<String> committed, String prefix, List<String> stored, java.util.function.LongPredicate ours,
                         String what) {
        long maxId = -1;
        List<String> uncommitted = new ArrayList<>();
        for (String key : stored) {
            long id;
            try {
                id = Layout.objectId(prefix, key);
            } catch (NumberFormatException e) {
                LOG.warn("Ignoring unexpected object {}", key);
                continue;
            }
            maxId = Math.max(maxId, id);
            if (!committed.contains(key) && ours.test(id)) {
                uncommitted.add(key);
            }
        }
        store.deleteAll(uncommitted);
        for (String key : committed) {
            if (key.startsWith(prefix)) {
                maxId = Math.max(maxId, Layout.objectId(prefix, key));
            }
        }
        if (!uncommitted.isEmpty()) {
            LOG.info("Deleted {} {} that were written but never committed", uncommitted.size(), what);
        }
        return maxId;
    }

    private long committedNextOffset(PartitionKey partition) {
        PartitionState state = partitions.get(partition);
        return state == null ? -1 : state.highWatermark();
    }

    /** Other brokers committed up to these next offsets: the partitions' caches move on, and their fetches wake. */
    private void committedElsewhere(Map<PartitionKey, Long> nextOffsets) {
        nextOffsets.forEach((partition, next) -> {
            PartitionState state = partitions.get(partition);
            if (state != null && state.committedElsewhere(next)) {
                wake(partition);
            }
        });
    }

    private void wake(PartitionKey partition) {
        Set<CompletableFuture<Void>> waiting = waiters.remove(partition);
        if (waiting != null) {
            waiting.forEach(future -> future.complete(null));
        }
    }

    private void committed(List<WalWriter.Committed> batches) {
        boolean catchingUp = storeMayBeAhead;
        Set<PartitionKey> touched = new java.util.HashSet<>();
        for (WalWriter.Committed batch : batches) {
            AppendOutcome outcome = batch.outcome();
            if (!outcome.tookNewOffsets()) {
                continue;
            }
            PartitionState state = partitions.get(batch.partition());
            if (state == null) {
                continue;
            }
            state.committed(new BatchLocation(outcome.baseOffset(), outcome.baseOffset() + batch.append().offsetCount() - 1,
                batch.objectKey(), batch.append().position(), batch.append().size(), batch.append().maxTimestamp(),
                batch.finalInObject()), maxTailBatchesPerPartition());
            touched.add(batch.partition());
        }
        if (catchingUp) {
            catchUpWithStore();
        }
        touched.forEach(this::wake);
    }

    /**
     * After a commit whose outcome was unknown, on the committing thread: the store may hold offsets that
     * were committed while this broker heard only of a failure (the commit's answer was lost). A
     * partition whose stored next offset is beyond its high watermark skips to it, so that those records,
     * acknowledged when their producers sent them again, become readable; reads below the skip go to the
     * index, which has their batches; the same path as other brokers' commits. If the store cannot be read
     * now, this is tried again after the next commit.
     */
    private void catchUpWithStore() {
        try {
            refreshFromStore();
        } catch (RuntimeException e) {
            LOG.warn("Reading the partitions' offsets after a commit of unknown outcome failed; tried again after"
                + " the next commit: {}", e.toString());
            return;
        }
        storeMayBeAhead = false;
    }

    /**
     * Takes in the partitions' offsets as the metadata store holds them now: commits and log start moves
     * (DeleteRecords, retention) of other brokers on the same database, which this broker may not have heard of,
     * for partitions it knows (partitions new to it start with these offsets).
     */
    public void refreshFromStore() {
        metadata.partitionOffsets().forEach((partition, offsets) -> {
            PartitionState state = partitions.get(partition);
            if (state == null) {
                return;
            }
            if (offsets.logStartOffset() > state.logStartOffset()) {
                state.logStartMoved(offsets.logStartOffset());
                indexPages.forget(partition);
            }
            if (state.committedElsewhere(offsets.nextOffset())) {
                wake(partition);
            }
        });
    }

    /** The broker-wide tail budget shared by the partitions (at least 16 batches each, at most 8192). */
    private int maxTailBatchesPerPartition() {
        long share = settings.tailIndexMaxBatches() / Math.max(1, partitions.size());
        return (int) Math.max(16, Math.min(8192, share));
    }

    public CompletableFuture<AppendOutcome> append(PartitionKey partition, ValidatedBatch batch) {
        return writer.append(partition, batch);
    }

    public void partitionsCreated(Uuid topicId, int fromPartition, int toPartition) {
        for (int partition = fromPartition; partition < toPartition; partition++) {
            partitions.put(new PartitionKey(topicId, partition), new PartitionState(0, 0));
        }
    }

    /**
     * Partitions {@code 0..partitions-1} of the topic, created by another broker, for those this log does not
     * know yet; their offsets come with {@link #refreshFromStore}.
     */
    public void ensurePartitions(Uuid topicId, int partitions) {
        for (int partition = 0; partition < partitions; partition++) {
            this.partitions.putIfAbsent(new PartitionKey(topicId, partition), new PartitionState(0, 0));
        }
    }

    public void topicDeleted(Uuid topicId) {
        partitions.keySet().removeIf(key -> key.topicId().equals(topicId));
        indexPages.forgetTopic(topicId);
        writer.topicDeleted(topicId);
    }

    public PartitionOffsets offsets(PartitionKey partition) {
        PartitionState state = state(partition);
        return new PartitionOffsets(state.logStartOffset(), state.highWatermark());
    }

    /**
     * Whether a read from {@code offset} finds its batches in the in-memory tail, which holds the
     * recent batches whose bytes are likely still cached; otherwise it is a catch-up read, which looks
     * up the index database and reads older objects. An unknown partition counts as the tail: its read
     * fails at once.
     */
    public boolean readsFromTail(PartitionKey partition, long offset) {
        PartitionState state = partitions.get(partition);
        return state == null || state.tailHolds(offset);
    }

    /** Whether the partition exists (its topic was not deleted). */
    public boolean hasPartition(PartitionKey partition) {
        return partitions.containsKey(partition);
    }

    private PartitionState state(PartitionKey partition) {
        PartitionState state = partitions.get(partition);
        if (state == null) {
            throw new UnknownPartitionException("Unknown partition " + partition);
        }
        return state;
    }

    /**
     * Reads committed batches from {@code offset} up to {@code maxBytes}; with {@code minOneBatch} the
     * first batch is returned even if it alone exceeds the limit. The caller checked the offset range.
     */
    public ReadResult read(PartitionKey partition, long offset, int maxBytes, boolean minOneBatch) {
        return read(partition, offset, maxBytes, minOneBatch, ByteBuffer::allocate);
    }

    /** As {@link #read(PartitionKey, long, int, boolean)}, into a buffer from {@code allocator}. */
    public ReadResult read(PartitionKey partition, long offset, int maxBytes, boolean minOneBatch,
                           java.util.function.IntFunction<ByteBuffer> allocator) {
        PartitionState state = state(partition);
        long highWatermark = state.highWatermark();
        long logStartOffset = state.logStartOffset();
        List<BatchReader.Slice> chosen = choose(partition, state, highWatermark, offset, maxBytes, minOneBatch);
        int bytes = chosen.stream().mapToInt(BatchReader.Slice::size).sum();
        return new ReadResult(reader.read(partition, chosen, bytes, allocator), highWatermark, logStartOffset);
    }

    /**
     * As {@link #read(PartitionKey, long, int, boolean, java.util.function.IntFunction)}, but for
     * sending: where the store has files, segment ranges and large WAL batches (behind a header with
     * their offsets written in; the rest of the header and the CRC are unchanged) stay in their files
     * and are sent without copying, as Kafka sends its log. Their CRCs are checked by the client
     * (check.crcs), not here. Small WAL batches are read, checked and patched as by {@code read}; the
     * {@code mode} may have every batch read ({@link SendMode#CHECK_EVERY_BATCH}) or none
     * ({@link SendMode#FILES_ONLY}). Each file opened is handed to {@code opened}, which must
     * close it once the response is written.
     */
    public SendableRead readForSending(PartitionKey partition, long offset, int maxBytes, boolean minOneBatch,
                                       SendMode mode, java.util.function.IntFunction<ByteBuffer> allocator,
                                       java.util.function.Consumer<java.nio.channels.FileChannel> opened) {
        PartitionState state = state(partition);
        long highWatermark = state.highWatermark();
        long logStartOffset = state.logStartOffset();
        List<BatchReader.Slice> chosen = choose(partition, state, highWatermark, offset, maxBytes, minOneBatch);
        return new SendableRead(reader.readForSending(partition, chosen, mode, allocator, opened), highWatermark,
            logStartOffset);
    }

    /**
     * The slices to read: whole batches from {@code offset}, within {@code maxBytes}. Batch locations are
     * looked up a page at a time, the first one small, since a read usually fills its bytes with a few
     * batches: asking the tail or the database for {@link #MAX_BATCHES_PER_READ} locations at once cost
     * a fetch more than the batches it returned.
     */
    private List<BatchReader.Slice> choose(PartitionKey partition, PartitionState state, long highWatermark, long offset,
                                           int maxBytes, boolean minOneBatch) {
        List<BatchReader.Slice> chosen = new ArrayList<>();
        int batchLimit = Math.max(1, Math.min(MAX_BATCHES_PER_READ, maxBytes / 64 + 1));
        long bytes = 0;
        long next = offset;
        int taken = 0;
        for (int page = FIRST_PAGE_BATCHES; taken < batchLimit && next < highWatermark; page *= 4) {
            int want = Math.min(page, batchLimit - taken);
            List<BatchLocation> located = state.tailFrom(next, want);
            if (located == null) {
                located = indexPages.from(partition, next, want);
            }
            for (BatchLocation row : located) {
                if (row.baseOffset() >= highWatermark) {
                    return chosen;
                }
                BatchReader.Slice slice = reader.from(partition, row, offset);
                BatchReader.Slice fitting = reader.cut(partition, slice, maxBytes - bytes, chosen.isEmpty() && minOneBatch);
                if (fitting.size() > 0) {
                    chosen.add(fitting);
                    bytes += fitting.size();
                }
                if (fitting.size() < slice.size()) {
                    return chosen;
                }
                next = row.lastOffset() + 1;
            }
            taken += located.size();
            if (located.size() < want) {
                break;
            }
        }
        return chosen;
    }

    /** The first record with timestamp at or after {@code timestamp}, if any. */
    public Optional<TimestampOffset> offsetForTimestamp(PartitionKey partition, long timestamp) {
        PartitionState state = state(partition);
        Optional<BatchLocation> batch = metadata.firstBatchWithTimestampAtLeast(partition, timestamp, state.logStartOffset());
        return batch.flatMap(found -> findRecord(partition, found, state.logStartOffset(),
            record -> record.timestamp() >= timestamp));
    }

    /** The record with the largest timestamp (the first of them), if any. */
    public Optional<TimestampOffset> maxTimestamp(PartitionKey partition) {
        PartitionState state = state(partition);
        Optional<BatchLocation> batch = metadata.batchWithMaxTimestamp(partition, state.logStartOffset());
        return batch.flatMap(found -> findRecord(partition, found, state.logStartOffset(),
            record -> record.timestamp() == found.maxTimestamp()));
    }

    private Optional<TimestampOffset> findRecord(PartitionKey partition, BatchLocation location, long fromOffset,
                                                 java.util.function.Predicate<Record> wanted) {
        MemoryRecords records = MemoryRecords.readableRecords(reader.readRow(partition, location));
        for (MutableRecordBatch batch : records.batches()) {
            try (CloseableIterator<Record> iterator = batch.skipKeyValueIterator(BufferSupplier.NO_CACHING)) {
                while (iterator.hasNext()) {
                    Record record = iterator.next();
                    if (record.offset() >= fromOffset && wanted.test(record)) {
                        return Optional.of(new TimestampOffset(record.timestamp(), record.offset()));
                    }
                }
            }
        }
        return Optional.empty();
    }

    /** Moves the log start offset to {@code offset} (DeleteRecords); returns the new log start offset. */
    public synchronized long deleteRecords(PartitionKey partition, long offset) {
        PartitionState state = state(partition);
        long newStart = metadata.advanceLogStartOffset(partition, offset);
        state.logStartMoved(newStart);
        indexPages.forget(partition);
        return newStart;
    }

    /**
     * Retention: moves the log start past the oldest batches while they are older than
     * {@code retentionMs} (by their largest timestamp) or while dropping them keeps the partition at
     * or above {@code retentionBytes}; -1 disables either rule. Returns the new log start offset.
     */
    public long enforceRetention(PartitionKey partition, long retentionMs, long retentionBytes, long nowMs) {
        PartitionState state = state(partition);
        long start = state.logStartOffset();
        long newStart = start;
        long bytes = retentionBytes >= 0 ? metadata.partitionBytes(partition) : 0;
        long expiredBefore = retentionMs >= 0 ? nowMs - retentionMs : Long.MIN_VALUE;
        boolean more = true;
        while (more) {
            List<BatchLocation> page = metadata.batchesFrom(partition, newStart, 500);
            more = page.size() == 500;
            for (BatchLocation batch : page) {
                boolean tooOld = batch.maxTimestamp() < expiredBefore;
                boolean tooBig = retentionBytes >= 0 && bytes - batch.size() >= retentionBytes;
                if (!tooOld && !tooBig) {
                    more = false;
                    break;
                }
                bytes -= batch.size();
                newStart = batch.lastOffset() + 1;
            }
        }
        if (newStart > start) {
            LOG.info("Retention moves the log start offset of {} from {} to {}", partition, start, newStart);
            return deleteRecords(partition, newStart);
        }
        return start;
    }

    /**
     * Deletes objects that no batch has referred to for {@code graceMs}, so a read that located a batch
     * just before it was dropped can still finish. Up to {@value #OBJECTS_PER_DELETION} at a time are
     * forgotten in one metadata transaction and deleted together (on S3 with one request). Returns how
     * many were deleted.
     */
    public int collectGarbage(long nowMs, long graceMs) {
        String open = writer.oldestOpenFile();
        List<String> deletable = new ArrayList<>();
        for (String key : metadata.unreferencedObjects(nowMs, nowMs - graceMs)) {
            // Not the WAL file being written: later objects will go into it.
            if (open == null || !key.startsWith(Layout.WAL_PREFIX) || key.compareTo(open) < 0) {
                deletable.add(key);
            }
        }
        int deleted = 0;
        for (int from = 0; from < deletable.size(); from += OBJECTS_PER_DELETION) {
            // The rows go first: a crash before the files are deleted leaves files that start-up removes.
            List<String> forgotten = metadata.forgetObjects(
                deletable.subList(from, Math.min(deletable.size(), from + OBJECTS_PER_DELETION)));
            store.deleteAll(forgotten);
            deleted += forgotten.size();
        }
        if (deleted > 0) {
            LOG.info("Deleted {} objects that nothing refers to any more", deleted);
        }
        return deleted;
    }

    /** A key for a new segment object, never used before. */
    public String newSegmentKey() {
        return Layout.objectKey(Layout.SEGMENT_PREFIX, objectIds.next());
    }

    public BatchReader reader() {
        return reader;
    }

    public ObjectStore store() {
        return store;
    }

    public MetadataStore metadata() {
        return metadata;
    }

    /**
     * Switches the index of {@code [fromOffset, toOffset]} of a partition to rewritten segments and runs
     * of batches kept in place, if
     * exactly {@code expectedRows} rows are still there (DeleteRecords, retention or a topic deletion
     * did not get there first); then the in-memory tail forgets the range, so later reads find the new rows. Runs
     * under the log's lock, which DeleteRecords and retention take too.
     */
    public synchronized boolean switchIndex(PartitionKey partition, long fromOffset, long toOffset, int expectedRows,
                                     List<dev.weir.metadata.NewSegment> segments, List<BatchLocation> keptInPlace,
                                     List<String> replacedSegments) {
        PartitionState state = partitions.get(partition);
        if (state == null) {
            return false;
        }
        if (!metadata.replaceBatches(partition, fromOffset, toOffset, expectedRows, segments, keptInPlace,
            replacedSegments)) {
            return false;
        }
        state.merged(toOffset);
        indexPages.forget(partition);
        return true;
    }

    /** Completes when any of the partitions gets a commit, or after {@code timeoutMs}. */
    public CompletableFuture<Void> awaitCommit(Collection<PartitionKey> keys, long timeoutMs) {
        CompletableFuture<Void> future = new CompletableFuture<>();
        for (PartitionKey key : keys) {
            waiters.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(future);
        }
        var timeout = timer.schedule(() -> future.complete(null), timeoutMs, TimeUnit.MILLISECONDS);
        future.whenComplete((ignored, error) -> {
            timeout.cancel(false);
            for (PartitionKey key : keys) {
                Set<CompletableFuture<Void>> waiting = waiters.get(key);
                if (waiting != null) {
                    waiting.remove(future);
                }
            }
        });
        return future;
    }

    public long nowMs() {
        return clock.millis();
    }

    @Override
    public void close() {
        try {
            commitFeed.close();
        } catch (Exception e) {
            LOG.warn("Stopping to follow other brokers' commits failed", e);
        }
        writer.close();
        waiters.values().forEach(set -> set.forEach(future -> future.complete(null)));
    }
}
