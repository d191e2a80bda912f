package dev.weir.log;

import dev.weir.log.format.Layout;
import dev.weir.log.append.WalWriter;
import dev.weir.log.batch.BatchValidator;
import dev.weir.log.batch.ValidatedBatch;
import dev.weir.log.cleaner.Merger;
import dev.weir.log.format.WalObjectFormat;
import dev.weir.log.policy.TopicLimits;
import dev.weir.log.read.BatchReader;
import dev.weir.log.read.SendMode;
import dev.weir.log.read.SendableRecords;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weir.metadata.AppendFailure;
import dev.weir.metadata.AppendOutcome;
import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.TopicRecord;
import dev.weir.metadata.sqlite.SqliteMetadataStore;
import dev.weir.storage.StorageException;
import dev.weir.storage.WalFile;
import dev.weir.testing.DataDirectory;
import dev.weir.storage.local.LocalObjectStore;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The log over the real local object store and SQLite index: append, read, recovery, corruption. */
class LogTest {
    private static final TopicLimits LIMITS = new TopicLimits(1 << 20, TimestampType.CREATE_TIME, Long.MAX_VALUE,
        Long.MAX_VALUE, false);

    @TempDir
    Path dir;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private SqliteMetadataStore metadata;
    private LocalObjectStore store;
    private Log log;
    private final Uuid topicId = Uuid.randomUuid();
    private PartitionKey partition;

    @BeforeEach
    void open() {
        partition = new PartitionKey(topicId, 0);
        openLog();
        metadata.createTopic(new TopicRecord(topicId, "t", 2, Map.of(), 0));
        log.partitionsCreated(topicId, 0, 2);
    }

    private void openLog() {
        openLog(new LogSettings(1 << 20, 1, 2, 4L << 20, 10_000, 32, 32L << 20, 10_000));
    }

    private void openLog(LogSettings settings) {
        metadata = new SqliteMetadataStore(dir.resolve("metadata.db"), Clock.systemUTC());
        store = new LocalObjectStore(dir.resolve("objects"));
        log = new Log(store, metadata, Clock.systemUTC(), 0, settings, timer);
    }

    private void reopen() {
        log.close();
        store.close();
        metadata.close();
        openLog();
    }

    @AfterEach
    void close() {
        log.close();
        store.close();
        metadata.close();
        timer.shutdownNow();
    }

    private static ValidatedBatch batch(int records, long producerId, short epoch, int sequence) {
        SimpleRecord[] values = new SimpleRecord[records];
        for (int i = 0; i < records; i++) {
            values[i] = new SimpleRecord(System.currentTimeMillis(), ("k" + i).getBytes(), ("v" + i).getBytes());
        }
        MemoryRecords memory = producerId < 0 ? MemoryRecords.withRecords(Compression.NONE, values)
            : MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, epoch, sequence, values);
        return BatchValidator.validate(memory, LIMITS, System.currentTimeMillis());
    }

    private List<Long> offsetsReadFrom(long offset) {
        List<Long> offsets = new ArrayList<>();
        MemoryRecords records = log.read(partition, offset, 1 << 20, true).records();
        for (RecordBatch batch : records.batches()) {
            for (Record record : batch) {
                offsets.add(record.offset());
            }
        }
        return offsets;
    }

    @Test
    void appendedBatchesGetContiguousOffsetsAndReadBackFromAnyOffset() {
        for (int i = 0; i < 20; i++) {
            AppendOutcome outcome = log.append(partition, batch(3, -1, (short) 0, 0)).join();
            assertThat(outcome.baseOffset()).isEqualTo(i * 3L);
        }
        assertThat(log.offsets(partition).nextOffset()).isEqualTo(60);
        // A budget of 32 locations over two partitions keeps 16 batches each in memory: offset 0 comes
        // from the database, offset 58 from memory.
        assertThat(offsetsReadFrom(0)).startsWith(0L, 1L, 2L).hasSize(60);
        assertThat(offsetsReadFrom(58)).containsExactly(57L, 58L, 59L);
        assertThat(log.read(partition, 5, 10, true).records().sizeInBytes()).isPositive();
        reopen();
        assertThat(log.offsets(partition).nextOffset()).isEqualTo(60);
        assertThat(offsetsReadFrom(13)).startsWith(12L).hasSize(48);
    }

    /** A batch of about {@code records} KiB; each value starts with {@code label} and the record's index. */
    private static ValidatedBatch largeBatch(int records, int label, long producerId, int sequence) {
        SimpleRecord[] values = new SimpleRecord[records];
        for (int i = 0; i < records; i++) {
            byte[] value = new byte[1024];
            java.nio.ByteBuffer.wrap(value).putInt(label).putInt(i);
            values[i] = new SimpleRecord(System.currentTimeMillis(), null, value);
        }
        MemoryRecords memory = producerId < 0 ? MemoryRecords.withRecords(Compression.NONE, values)
            : MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, (short) 0, sequence, values);
        return BatchValidator.validate(memory, LIMITS, System.currentTimeMillis());
    }

    /** What a fetch of {@code key} from {@code offset} sends, and in how many parts. */
    private record Sent(byte[] bytes, int parts) {
        MemoryRecords records() {
            return MemoryRecords.readableRecords(java.nio.ByteBuffer.wrap(bytes));
        }
    }

    private Sent send(PartitionKey key, long offset) throws Exception {
        List<FileChannel> opened = new ArrayList<>();
        try {
            SendableRecords records = log.readForSending(key, offset, 64 << 20, true, SendMode.COPY_SMALL_BATCHES,
                java.nio.ByteBuffer::allocate, opened::add).records();
            java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(records.sizeInBytes());
            org.apache.kafka.common.network.Send send = records.toSend();
            while (!send.completed()) {
                send.writeTo(new IntoBuffer(out));
            }
            assertThat(out.hasRemaining()).isFalse();
            return new Sent(out.array(), records.parts().size());
        } finally {
            for (FileChannel channel : opened) {
                channel.close();
            }
        }
    }

    /** A network channel that copies what is sent into a buffer, file ranges included. */
    private record IntoBuffer(java.nio.ByteBuffer out) implements org.apache.kafka.common.network.TransferableChannel {
        @Override
        public long write(java.nio.ByteBuffer[] sources, int offset, int length) {
            long written = 0;
            for (int i = offset; i < offset + length; i++) {
                written += write(sources[i]);
            }
            return written;
        }

        @Override
        public long write(java.nio.ByteBuffer[] sources) {
            return write(sources, 0, sources.length);
        }

        @Override
        public int write(java.nio.ByteBuffer source) {
            int remaining = source.remaining();
            out.put(source);
            return remaining;
        }

        @Override
        public long transferFrom(FileChannel file, long position, long count) throws java.io.IOException {
            java.nio.ByteBuffer target = out.slice().limit((int) count);
            while (target.hasRemaining()) {
                if (file.read(target, position + target.position()) < 0) {
                    throw new java.io.EOFException();
                }
            }
            out.position(out.position() + (int) count);
            return count;
        }

        @Override
        public boolean hasPendingWrites() {
            return false;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    /** Checks every sent batch (CRC, leader epoch, contiguous offsets from 0) and returns the labels in order. */
    private static List<Integer> labelsOfValidBatches(MemoryRecords records, long expectedRecords) {
        List<Integer> labels = new ArrayList<>();
        long next = 0;
        for (RecordBatch batch : records.batches()) {
            assertThat(batch.isValid()).as("CRC of the batch at %d", batch.baseOffset()).isTrue();
            assertThat(batch.baseOffset()).isEqualTo(next);
            assertThat(batch.partitionLeaderEpoch()).isEqualTo(Log.LEADER_EPOCH);
            for (Record record : batch) {
                assertThat(record.offset()).isEqualTo(next++);
                java.nio.ByteBuffer value = record.value();
                if (value.getInt(value.position() + 4) == 0) {
                    labels.add(value.getInt(value.position()));
                }
            }
        }
        assertThat(next).isEqualTo(expectedRecords);
        return labels;
    }

    @Test
    void batchesCommittedSinceStartAreSentFromTheirFileAsTheyAre() throws Exception {
        // Appended one at a time, each batch (20 KiB, large enough to be sent from its file) is an object.
        for (int i = 0; i < 4; i++) {
            assertThat(log.append(partition, largeBatch(20, i, -1, 0)).join().baseOffset()).isEqualTo(20L * i);
        }
        Sent fresh = send(partition, 0);
        assertThat(labelsOfValidBatches(fresh.records(), 80)).containsExactly(0, 1, 2, 3);
        assertThat(fresh.parts()).as("one file range per batch: its stored header is final").isEqualTo(4);
        // After a restart the index cannot tell whether a stored header is final: each is rebuilt on the way.
        reopen();
        Sent reopened = send(partition, 0);
        assertThat(reopened.parts()).isEqualTo(8);
        assertThat(reopened.bytes()).isEqualTo(fresh.bytes());
    }

    @Test
    void batchesAppendedTogetherKeepEachPartitionsOrderAndOffsets() throws Exception {
        // A tail that holds every batch: rows read from the index would not say whose header is final.
        log.close();
        store.close();
        metadata.close();
        openLog(new LogSettings(1 << 20, 1, 2, 4L << 20, 10_000, 1000, 32L << 20, 10_000));
        PartitionKey other = new PartitionKey(topicId, 1);
        List<ValidatedBatch> batches = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            batches.add(largeBatch(20, i, -1, 0));
        }
        // Appended faster than one object is written: the objects after the first hold several batches of
        // each partition, which the writer puts side by side.
        List<java.util.concurrent.CompletableFuture<AppendOutcome>> appended = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            appended.add(log.append(i % 2 == 0 ? partition : other, batches.get(i)));
        }
        appended.forEach(java.util.concurrent.CompletableFuture::join);
        List<Integer> even = new ArrayList<>();
        List<Integer> odd = new ArrayList<>();
        for (int i = 0; i < 40; i += 2) {
            even.add(i);
            odd.add(i + 1);
        }
        Sent first = send(partition, 0);
        assertThat(labelsOfValidBatches(first.records(), 400)).isEqualTo(even);
        assertThat(first.parts()).as("file ranges for 20 batches").isLessThan(20);
        assertThat(labelsOfValidBatches(send(other, 0).records(), 400)).isEqualTo(odd);
        reopen();
        assertThat(send(partition, 0).bytes()).isEqualTo(first.bytes());
    }

    @Test
    void mergingKeepsBatchesWithFinalHeadersInPlaceAndCopiesTheRest() throws Exception {
        PartitionKey other = new PartitionKey(topicId, 1);
        List<java.util.concurrent.CompletableFuture<AppendOutcome>> appended = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            appended.add(log.append(i % 2 == 0 ? partition : other, largeBatch(20, i, -1, 0)));
        }
        appended.forEach(java.util.concurrent.CompletableFuture::join);
        List<Integer> even = new ArrayList<>();
        for (int i = 0; i < 40; i += 2) {
            even.add(i);
        }
        Sent before = send(partition, 0);
        // A stored base offset that is not the batch's: what the WAL writer leaves when it mispredicts.
        var wrong = metadata.batchesFrom(partition, 100, 1).get(0);
        assertThat(wrong.baseOffset()).isEqualTo(100);
        DataDirectory.damageByte(dir.resolve("objects").resolve(wrong.objectKey()), wrong.position() + 7);
        // After a restart the rows come from the index, which does not say whose header is final: merging reads them.
        reopen();
        int rowsBefore = metadata.batchesFrom(partition, 0, 1000).size();
        // Index rows of up to 64 KiB: runs of three batches, so that the one holding offset 100 stays small.
        Merger merger = new Merger(log, Clock.systemUTC(), 64 * 1024, Double.MAX_VALUE, 512 * 1024, 64 << 20);
        assertThat(merger.mergeOnce(key -> 1L << 30, key -> true, 0)).as("segments written").isEqualTo(1);

        var rows = metadata.batchesFrom(partition, 0, 1000);
        var kept = rows.stream().filter(row -> row.objectKey().startsWith(Layout.WAL_PREFIX)).toList();
        var copied = rows.stream().filter(row -> BatchReader.isSegment(row.objectKey())).toList();
        assertThat(kept).isNotEmpty().allMatch(BatchLocation::finalInObject);
        assertThat(copied).as("the run holding offset 100, copied with its offsets written in").isNotEmpty()
            .anyMatch(row -> row.baseOffset() <= 100 && row.lastOffset() >= 100);
        assertThat(kept.size() + copied.size()).isEqualTo(rows.size()).isLessThan(rowsBefore);
        assertThat(kept).as("runs side by side in a WAL file share a row").anyMatch(row -> row.size() > 40 * 1024);
        Sent merged = send(partition, 0);
        assertThat(labelsOfValidBatches(merged.records(), 400)).isEqualTo(even);
        assertThat(merged.bytes()).isEqualTo(before.bytes());
        assertThat(offsetsReadFrom(250).get(0)).as("a read from inside a run starts at the batch holding it")
            .isEqualTo(240);
        assertThat(labelsOfValidBatches(send(other, 0).records(), 400)).hasSize(20);
        reopen();
        assertThat(send(partition, 0).bytes()).isEqualTo(before.bytes());
    }

    @Test
    void aDuplicateBatchLeavesTheOffsetsOfLaterBatchesRight() throws Exception {
        long producerId = metadata.nextProducerId();
        assertThat(log.append(partition, largeBatch(20, 0, producerId, 0)).join().baseOffset()).isZero();
        // The retry takes no offsets, though it was written expecting 20..39.
        assertThat(log.append(partition, largeBatch(20, 0, producerId, 0)).join().baseOffset()).isZero();
        assertThat(log.append(partition, largeBatch(20, 1, producerId, 20)).join().baseOffset()).isEqualTo(20);
        assertThat(log.append(partition, largeBatch(20, 2, producerId, 40)).join().baseOffset()).isEqualTo(40);
        Sent sent = send(partition, 0);
        assertThat(labelsOfValidBatches(sent.records(), 60)).containsExactly(0, 1, 2);
        assertThat(sent.parts()).as("the writer corrected its expectation after the duplicate").isEqualTo(3);
    }

    @Test
    void idempotentRetryGetsItsOriginalOffsetAndGapsAreRefused() {
        long producerId = metadata.nextProducerId();
        assertThat(log.append(partition, batch(2, producerId, (short) 0, 0)).join().baseOffset()).isZero();
        assertThat(log.append(partition, batch(2, producerId, (short) 0, 2)).join().baseOffset()).isEqualTo(2);
        AppendOutcome retry = log.append(partition, batch(2, producerId, (short) 0, 0)).join();
        assertThat(retry.failure()).isNull();
        assertThat(retry.baseOffset()).isZero();
        assertThat(log.offsets(partition).nextOffset()).isEqualTo(4);
        assertThat(log.append(partition, batch(1, producerId, (short) 0, 7)).join().failure())
            .isEqualTo(AppendFailure.OUT_OF_ORDER_SEQUENCE);
        reopen();
        assertThat(log.append(partition, batch(2, producerId, (short) 0, 2)).join().baseOffset()).isEqualTo(2);
        assertThat(log.append(partition, batch(1, producerId, (short) 0, 4)).join().baseOffset()).isEqualTo(4);
        assertThat(log.append(partition, batch(1, producerId, (short) 1, 0)).join().baseOffset()).isEqualTo(5);
        assertThat(log.append(partition, batch(1, producerId, (short) 0, 5)).join().failure())
            .isEqualTo(AppendFailure.STALE_PRODUCER_EPOCH);
    }

    @Test
    void fullWalFilesRollAndAnObjectLargerThanAFileGetsOneOfItsOwn() throws Exception {
        log.close();
        store.close();
        metadata.close();
        // Objects of up to 1 MiB, files of 256 KiB: many objects fill a file, and many do not fit in one.
        openLog(new LogSettings(1 << 20, 5, 2, 256 << 10, 10_000, 32, 32L << 20, 10_000));
        List<java.util.concurrent.CompletableFuture<dev.weir.metadata.AppendOutcome>> appended = new ArrayList<>();
        List<Long> expectedBase = new ArrayList<>();
        long next = 0;
        for (int i = 0; i < 4001; i++) {
            int records = i == 2000 ? 20_000 : 20; // one batch of about 300 kB
            expectedBase.add(next);
            next += records;
            appended.add(log.append(partition, batch(records, -1, (short) 0, 0)));
        }
        for (int i = 0; i < appended.size(); i++) {
            assertThat(appended.get(i).join().baseOffset()).isEqualTo(expectedBase.get(i));
        }
        long total = next;
        Set<String> files = DataDirectory.committedObjects(dir);
        assertThat(files).hasSizeGreaterThan(3);
        long largest = 0;
        for (String key : files) {
            largest = Math.max(largest, DataDirectory.committedBytes(dir, key));
        }
        assertThat(largest).as("the largest object's file").isGreaterThan(256 << 10);
        reopen();
        List<Long> offsets = new ArrayList<>();
        while (offsets.size() < total) {
            offsets.addAll(offsetsReadFrom(offsets.size()));
        }
        for (int i = 0; i < offsets.size(); i++) {
            assertThat(offsets.get(i)).isEqualTo(i);
        }
    }

    @Test
    void eachWalObjectStartsOnAPageOfItsOwn() throws Exception {
        // Appended one at a time, each batch is an object of its own, well under a page.
        for (int i = 0; i < 5; i++) {
            log.append(partition, batch(3, -1, (short) 0, 0)).join();
        }
        List<String> files = DataDirectory.committedWalFiles(dir);
        assertThat(files).hasSize(1);
        String key = files.get(0);
        byte[] bytes = java.nio.file.Files.readAllBytes(dir.resolve("objects").resolve(key));
        for (int i = 0; i < 5; i++) {
            int start = i * WalFile.ALIGNMENT;
            assertThat(java.util.Arrays.copyOfRange(bytes, start, start + WalObjectFormat.MAGIC.length))
                .as("object %d", i).isEqualTo(WalObjectFormat.MAGIC);
        }
        assertThat(DataDirectory.committedBytes(dir, key)).isBetween(4L * WalFile.ALIGNMENT,
            5L * WalFile.ALIGNMENT);
        reopen();
        assertThat(offsetsReadFrom(0)).hasSize(15);
    }

    /**
     * Start-up steps over a WAL object made void (its commit failed and its producers were told so) and
     * commits the whole object written after it in the same file, with the offsets it would have got
     * had the void one never been written.
     */
    @Test
    void startUpStepsOverAVoidObjectAndCommitsTheOneAfterIt(@TempDir Path backup) throws Exception {
        log.append(partition, batch(1, -1, (short) 0, 0)).join();
        Path snapshot = backup.resolve("metadata.db");
        DataDirectory.snapshotDatabase(dir, snapshot);
        // Appended one at a time, each is an object of its own, on a page of its own after the first.
        log.append(partition, batch(2, -1, (short) 0, 0)).join();
        log.append(partition, batch(4, -1, (short) 0, 0)).join();
        log.close();
        store.close();
        metadata.close();
        DataDirectory.restoreDatabase(dir, snapshot);
        Path file = dir.resolve("objects").resolve(DataDirectory.committedWalFiles(dir).get(0));
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer page = java.nio.ByteBuffer.allocate(WalFile.ALIGNMENT);
            while (page.hasRemaining() && channel.read(page, WalFile.ALIGNMENT + page.position()) > 0) {
                // reads the second object's first page
            }
            WalObjectFormat.makeVoid(page);
            channel.write(page.clear(), WalFile.ALIGNMENT);
        }
        openLog();
        List<Long> offsets = offsetsReadFrom(0);
        assertThat(offsets).as("the first object's record, then the third's").containsExactly(0L, 1L, 2L, 3L, 4L);
        assertThat(log.append(partition, batch(1, -1, (short) 0, 0)).join().baseOffset()).isEqualTo(5);
    }

    @Test
    void objectsWrittenButNeverCommittedAreDeletedAtStart() throws Exception {
        log.append(partition, batch(1, -1, (short) 0, 0)).join();
        java.nio.file.Files.write(dir.resolve("objects/wal/00000000000000099999"), new byte[] {1, 2, 3});
        reopen();
        assertThat(store.list("wal/")).doesNotContain("wal/00000000000000099999")
            .containsAll(DataDirectory.committedObjects(dir));
        assertThat(log.append(partition, batch(1, -1, (short) 0, 0)).join().baseOffset()).isEqualTo(1);
        assertThat(offsetsReadFrom(0)).containsExactly(0L, 1L);
    }

    @Test
    void aCorruptBatchIsDetectedAndNeverServed() throws Exception {
        log.append(partition, batch(5, -1, (short) 0, 0)).join();
        reopen();
        String key = DataDirectory.committedObjects(dir).iterator().next();
        DataDirectory.damageByte(dir.resolve("objects").resolve(key), DataDirectory.committedBytes(dir, key) - 3);
        assertThatThrownBy(() -> log.read(partition, 0, 1 << 20, true))
            .isInstanceOf(StorageException.class).hasMessageContaining("Corrupt batch");
    }

    @Test
    void aTruncatedObjectIsReportedAsAStorageError() throws Exception {
        log.append(partition, batch(5, -1, (short) 0, 0)).join();
        reopen();
        String key = DataDirectory.committedObjects(dir).iterator().next();
        try (FileChannel channel = FileChannel.open(dir.resolve("objects").resolve(key), StandardOpenOption.WRITE)) {
            channel.truncate(DataDirectory.committedBytes(dir, key) - 10);
        }
        assertThatThrownBy(() -> log.read(partition, 0, 1 << 20, true)).isInstanceOf(StorageException.class);
    }

    @Test
    void deleteRecordsMovesTheLogStartAndSurvivesRestart() {
        for (int i = 0; i < 4; i++) {
            log.append(partition, batch(2, -1, (short) 0, 0)).join();
        }
        assertThat(log.deleteRecords(partition, 5)).isEqualTo(5);
        assertThat(log.deleteRecords(partition, 3)).isEqualTo(5);
        reopen();
        assertThat(log.offsets(partition).logStartOffset()).isEqualTo(5);
        assertThat(offsetsReadFrom(5)).startsWith(4L, 5L);
    }
}
