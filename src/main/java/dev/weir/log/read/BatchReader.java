package dev.weir.log.read;

import dev.weir.log.format.Layout;
import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.PartitionKey;
import dev.weir.storage.ObjectStore;
import dev.weir.storage.StorageException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Records;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads indexed batches from the object store and checks them before anything is served. An index
 * row of a WAL object is one batch whose offsets are written in on the way out, unless merging kept it
 * in place with its final offsets; such a row, like a row of a segment object, is a chunk of
 * consecutive batches that carry their final offsets already, so a read can start or stop at any batch
 * boundary inside it (found by walking the batch headers). Thread-safe.
 */
public final class BatchReader {
    private static final Logger LOG = LoggerFactory.getLogger(BatchReader.class);
    /** Base offset (8), length (4), leader epoch (4), magic (1), CRC (4), attributes (2), last offset delta (4). */
    public static final int HEADER_PREFIX_BYTES = 27;
    private static final int LAST_OFFSET_DELTA_POSITION = 23;
    private static final int PARTITION_LEADER_EPOCH_POSITION = 12;
    private static final int MAGIC_POSITION = 16;
    /** Base offset, length and leader epoch: the header bytes a WAL batch is sent with, rebuilt. */
    private static final int PATCHED_HEADER_BYTES = 16;
    /** WAL batches at least this large are sent from their file; smaller ones are cheaper to copy. */
    public static final int SEND_FROM_FILE_MIN_BYTES = 16 * 1024;

    /** Bytes {@code [position, position + size)} of an index row, whole batches only. */
    public record Slice(BatchLocation row, long position, int size) {
    }

    private final ObjectStore store;

    public BatchReader(ObjectStore store) {
        this.store = store;
    }

    public static boolean isSegment(String objectKey) {
        return objectKey.startsWith(Layout.SEGMENT_PREFIX);
    }

    /**
     * Whether the row's bytes are batches with their final offsets written in, possibly several: a segment
     * row, or a WAL row kept in place by merging (or a single WAL batch whose stored header is final).
     */
    public static boolean holdsFinalBatches(BatchLocation row) {
        return row.finalInObject() || isSegment(row.objectKey());
    }

    /** The whole row, or for a segment chunk the part from the batch holding {@code offset}. */
    public Slice from(PartitionKey partition, BatchLocation row, long offset) {
        if (!holdsFinalBatches(row) || row.baseOffset() >= offset) {
            return new Slice(row, row.position(), row.size());
        }
        long end = row.position() + row.size();
        ByteBuffer header = ByteBuffer.allocate(HEADER_PREFIX_BYTES);
        for (long position = row.position(); position < end; ) {
            int size = readHeader(partition, row, position, end, header);
            long lastOffset = header.getLong(0) + header.getInt(LAST_OFFSET_DELTA_POSITION);
            if (lastOffset >= offset) {
                return new Slice(row, position, (int) (end - position));
            }
            position += size;
        }
        throw corrupt(partition, row, "no batch holds offset " + offset);
    }

    /**
     * The leading part of {@code slice} that fits in {@code roomBytes} in whole batches (with
     * {@code atLeastOne}, the first batch even if it alone is larger); an empty slice when none fits.
     */
    public Slice cut(PartitionKey partition, Slice slice, long roomBytes, boolean atLeastOne) {
        if (slice.size() <= roomBytes) {
            return slice;
        }
        if (!holdsFinalBatches(slice.row())) {
            return atLeastOne ? slice : new Slice(slice.row(), slice.position(), 0);
        }
        long end = slice.position() + slice.size();
        ByteBuffer header = ByteBuffer.allocate(HEADER_PREFIX_BYTES);
        long taken = 0;
        for (long position = slice.position(); position < end; ) {
            int size = readHeader(partition, slice.row(), position, end, header);
            if (taken + size > roomBytes) {
                if (taken == 0 && atLeastOne) {
                    taken = size;
                }
                break;
            }
            taken += size;
            position += size;
        }
        return new Slice(slice.row(), slice.position(), (int) taken);
    }

    private int readHeader(PartitionKey partition, BatchLocation row, long position, long end, ByteBuffer header) {
        if (end - position < HEADER_PREFIX_BYTES) {
            throw corrupt(partition, row, "a batch header is cut off at position " + position);
        }
        store.readInto(row.objectKey(), position, header.clear());
        int size = header.getInt(Long.BYTES) + Records.LOG_OVERHEAD;
        if (size < HEADER_PREFIX_BYTES || size > end - position) {
            throw corrupt(partition, row, "a batch at position " + position + " has the impossible size " + size);
        }
        return size;
    }

    /** Reads the slices into one buffer from {@code allocator}, checked and with their offsets written in. */
    public MemoryRecords read(PartitionKey partition, List<Slice> slices, int totalBytes, IntFunction<ByteBuffer> allocator) {
        if (slices.isEmpty()) {
            return MemoryRecords.EMPTY;
        }
        ByteBuffer out = allocator.apply(totalBytes);
        int runStart = 0;
        for (int i = 1; i <= slices.size(); i++) {
            Slice first = slices.get(runStart);
            Slice previous = slices.get(i - 1);
            boolean runEnds = i == slices.size() || !slices.get(i).row().objectKey().equals(first.row().objectKey())
                || slices.get(i).position() != previous.position() + previous.size();
            if (runEnds) {
                // Adjacent slices of one object are read with one call, straight into the response buffer.
                int runBytes = (int) (previous.position() + previous.size() - first.position());
                int runStartInOut = out.position();
                store.readInto(first.row().objectKey(), first.position(), out.slice().limit(runBytes));
                for (int j = runStart; j < i; j++) {
                    Slice slice = slices.get(j);
                    int at = runStartInOut + (int) (slice.position() - first.position());
                    verify(partition, slice.row(), out.duplicate().position(at).limit(at + slice.size()).slice());
                }
                out.position(runStartInOut + runBytes);
                runStart = i;
            }
        }
        return MemoryRecords.readableRecords(out.flip());
    }

    /**
     * The slices as parts to send: segment ranges and WAL batches of at least
     * {@value #SEND_FROM_FILE_MIN_BYTES} bytes as file ranges (a WAL batch whose stored header is not
     * final behind its first {@value #PATCHED_HEADER_BYTES} header bytes, rebuilt with its real base
     * offset and the leader epoch), everything else read, checked and patched; with {@link SendMode#FILES_ONLY}
     * every WAL batch as a file range. Adjacent file ranges are sent as one. Everything is read with
     * {@link SendMode#CHECK_EVERY_BATCH} or when the store keeps no files.
     */
    public SendableRecords readForSending(PartitionKey partition, List<Slice> slices, SendMode mode,
                                   IntFunction<ByteBuffer> allocator, Consumer<FileChannel> opened) {
        List<SendableRecords.Part> parts = new ArrayList<>();
        Map<String, FileChannel> files = new HashMap<>();
        List<Slice> toRead = new ArrayList<>();
        for (Slice slice : slices) {
            boolean segment = isSegment(slice.row().objectKey());
            boolean fromFile = switch (mode) {
                case CHECK_EVERY_BATCH -> false;
                case COPY_SMALL_BATCHES -> segment || slice.size() >= SEND_FROM_FILE_MIN_BYTES;
                case FILES_ONLY -> true;
            };
            FileChannel file = fromFile
                ? files.computeIfAbsent(slice.row().objectKey(), key -> openChannel(key, opened)) : null;
            if (file == null) {
                toRead.add(slice);
                continue;
            }
            readInto(partition, toRead, allocator, parts);
            if (holdsFinalBatches(slice.row())) {
                addFileRange(parts, file, slice.position(), slice.size());
            } else {
                ByteBuffer header = ByteBuffer.allocate(PATCHED_HEADER_BYTES);
                header.putLong(slice.row().baseOffset()).putInt(slice.size() - Records.LOG_OVERHEAD)
                    .putInt(Layout.LEADER_EPOCH).flip();
                parts.add(SendableRecords.Part.bytes(header));
                parts.add(SendableRecords.Part.file(file, slice.position() + PATCHED_HEADER_BYTES,
                    slice.size() - PATCHED_HEADER_BYTES));
            }
        }
        readInto(partition, toRead, allocator, parts);
        return new SendableRecords(parts);
    }

    /** Adds a file range to the parts, joined to the last one when it continues it. */
    private static void addFileRange(List<SendableRecords.Part> parts, FileChannel file, long position, int size) {
        SendableRecords.Part last = parts.isEmpty() ? null : parts.get(parts.size() - 1);
        if (last != null && last.file() == file && last.position() + last.length() == position
            && (long) last.length() + size <= Integer.MAX_VALUE) {
            parts.set(parts.size() - 1, SendableRecords.Part.file(file, last.position(), last.length() + size));
        } else {
            parts.add(SendableRecords.Part.file(file, position, size));
        }
    }

    private FileChannel openChannel(String key, Consumer<FileChannel> opened) {
        FileChannel channel = store.files().map(files -> files.openChannel(key)).orElse(null);
        if (channel != null) {
            opened.accept(channel);
        }
        return channel;
    }

    private void readInto(PartitionKey partition, List<Slice> toRead, IntFunction<ByteBuffer> allocator,
                          List<SendableRecords.Part> parts) {
        if (toRead.isEmpty()) {
            return;
        }
        int bytes = toRead.stream().mapToInt(Slice::size).sum();
        parts.add(SendableRecords.Part.bytes(read(partition, toRead, bytes, allocator).buffer()));
        toRead.clear();
    }

    /** Reads a whole index row, checked and with its offsets written in. */
    public ByteBuffer readRow(PartitionKey partition, BatchLocation row) {
        ByteBuffer bytes = store.read(row.objectKey(), row.position(), row.size());
        verify(partition, row, bytes.duplicate());
        return bytes;
    }

    /**
     * Checks bytes read for a row: a WAL batch against its index entry and CRC, then writes in its real
     * offsets and the leader epoch; each batch of a segment chunk by CRC and by lying, in order, in the
     * row's offset range.
     */
    static void verify(PartitionKey partition, BatchLocation row, ByteBuffer bytes) {
        int expectedBytes = bytes.remaining();
        long previousLast = row.baseOffset() - 1;
        int seen = 0;
        try {
            for (MutableRecordBatch batch : MemoryRecords.readableRecords(bytes).batches()) {
                if (!batch.isValid()) {
                    throw corrupt(partition, row, "CRC mismatch");
                }
                if (holdsFinalBatches(row)) {
                    if (batch.baseOffset() <= previousLast || batch.lastOffset() > row.lastOffset()) {
                        throw corrupt(partition, row, "batch offsets " + batch.baseOffset() + ".." + batch.lastOffset()
                            + " lie outside the index row or out of order");
                    }
                    previousLast = batch.lastOffset();
                } else {
                    if (batch.sizeInBytes() != row.size()
                        || row.lastOffset() - row.baseOffset() != batch.lastOffset() - batch.baseOffset()) {
                        throw corrupt(partition, row, "length or offset range differs from the index");
                    }
                    batch.setLastOffset(row.lastOffset());
                    batch.setPartitionLeaderEpoch(Layout.LEADER_EPOCH);
                }
                seen += batch.sizeInBytes();
            }
        } catch (StorageException e) {
            throw e;
        } catch (RuntimeException e) {
            throw corrupt(partition, row, "unreadable batch: " + e.getMessage());
        }
        if (seen != expectedBytes) {
            throw corrupt(partition, row, "the batches cover " + seen + " of " + expectedBytes + " bytes");
        }
    }

    /**
     * Checks a WAL batch's header (length, magic, offset range) against its index row and writes in
     * its real base offset and the leader epoch, without the CRC check {@link #verify} adds.
     */
    public static void patchWalHeader(PartitionKey partition, BatchLocation row, ByteBuffer batch) {
        checkWalHeader(partition, row, batch);
        writeFinalHeader(batch, row.baseOffset());
    }

    /**
     * Checks a WAL batch's header (length, magic, offset range, from the buffer's position) against its
     * index row, and returns whether it carries the batch's real base offset and the leader epoch already.
     */
    public static boolean checkWalHeader(PartitionKey partition, BatchLocation row, ByteBuffer batch) {
        int at = batch.position();
        if (batch.remaining() < HEADER_PREFIX_BYTES || batch.getInt(at + Long.BYTES) + Records.LOG_OVERHEAD != row.size()
            || batch.get(at + MAGIC_POSITION) != org.apache.kafka.common.record.internal.RecordBatch.MAGIC_VALUE_V2
            || batch.getInt(at + LAST_OFFSET_DELTA_POSITION) != row.lastOffset() - row.baseOffset()) {
            throw corrupt(partition, row, "the batch header differs from the index");
        }
        return batch.getLong(at) == row.baseOffset() && batch.getInt(at + PARTITION_LEADER_EPOCH_POSITION) == Layout.LEADER_EPOCH;
    }

    /** Writes a batch's base offset and the leader epoch into its header, from the buffer's position. */
    public static void writeFinalHeader(ByteBuffer batch, long baseOffset) {
        batch.putLong(batch.position(), baseOffset);
        batch.putInt(batch.position() + PARTITION_LEADER_EPOCH_POSITION, Layout.LEADER_EPOCH);
    }

    static StorageException corrupt(PartitionKey partition, BatchLocation row, String why) {
        String message = "Corrupt batch of " + partition + " at offset " + row.baseOffset() + " in object "
            + row.objectKey() + " (position " + row.position() + "): " + why;
        LOG.error(message);
        return new StorageException(message);
    }
}
