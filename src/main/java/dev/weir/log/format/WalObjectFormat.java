package dev.weir.log.format;

import dev.weir.metadata.PartitionKey;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.apache.kafka.common.Uuid;

/**
 * The layout of a WAL object inside a WAL file: a header naming the partition of each batch, then the
 * batches, as produced (Kafka v2 record batches, each with its own CRC). The header is enough to
 * commit the object again from the file alone, which start-up does for objects whose commit the
 * metadata database lost (see {@code dev.weir.log.recovery.WalReplay}). Each object starts at a multiple of
 * {@link dev.weir.storage.WalFile#ALIGNMENT} in its file; zeros pad the gap after the one before.
 *
 * <pre>
 * magic "WEIRWAL2" (8) | created ms (8) | object length, header included (4) | batch count (4)
 * | CRC32C of the header without this field (4) | per batch: topic id (16), partition (4)
 * </pre>
 *
 * <p>An object whose commit failed after it was written, and whose producers are told so, is made void
 * in place: its magic becomes "WEIRVOID" and the CRC covers the fixed part alone. Start-up then steps
 * over it by its length and never commits it.
 */
public final class WalObjectFormat {
    public static final byte[] MAGIC = {'W', 'E', 'I', 'R', 'W', 'A', 'L', '2'};
    private static final byte[] VOID_MAGIC = {'W', 'E', 'I', 'R', 'V', 'O', 'I', 'D'};
    public static final int FIXED_BYTES = 28;
    static final int PER_BATCH_BYTES = 20;
    private static final int CRC_POSITION = 24;
    /** More batches than this in one object would need a header over 2 MiB: never written. */
    public static final int MAX_BATCHES = 100_000;

    private WalObjectFormat() {
    }

    public static int headerBytes(int batchCount) {
        return FIXED_BYTES + PER_BATCH_BYTES * batchCount;
    }

    /** The header of an object of {@code objectBytes} (header included) holding batches of these partitions. */
    public static ByteBuffer header(long createdMs, int objectBytes, List<PartitionKey> partitions) {
        ByteBuffer header = ByteBuffer.allocate(headerBytes(partitions.size()));
        header.put(MAGIC).putLong(createdMs).putInt(objectBytes).putInt(partitions.size()).putInt(0);
        for (PartitionKey partition : partitions) {
            header.putLong(partition.topicId().getMostSignificantBits())
                .putLong(partition.topicId().getLeastSignificantBits()).putInt(partition.partition());
        }
        header.putInt(CRC_POSITION, crc(header));
        return header.flip();
    }

    private static int crc(ByteBuffer header) {
        CRC32C crc = new CRC32C();
        crc.update(header.duplicate().position(0).limit(CRC_POSITION));
        crc.update(header.duplicate().position(CRC_POSITION + 4).limit(header.capacity()));
        return (int) crc.getValue();
    }

    private static int fixedCrc(ByteBuffer header) {
        CRC32C crc = new CRC32C();
        crc.update(header.duplicate().position(0).limit(CRC_POSITION));
        return (int) crc.getValue();
    }

    /**
     * Makes the object whose stored bytes begin with {@code start} (its header, then whatever follows)
     * void, in place: only the magic and the CRC change.
     */
    public static void makeVoid(ByteBuffer start) {
        start.put(0, VOID_MAGIC);
        start.putInt(CRC_POSITION, fixedCrc(start));
    }

    /**
     * The first page ({@link dev.weir.storage.WalFile#ALIGNMENT} bytes) of the object written from
     * {@code parts}, made void: writes cover whole pages, so the bytes after the header are as written.
     */
    public static ByteBuffer voidFirstPage(ByteBuffer[] parts) {
        ByteBuffer page = ByteBuffer.allocate(dev.weir.storage.WalFile.ALIGNMENT);
        for (ByteBuffer part : parts) {
            ByteBuffer rest = part.duplicate();
            rest.limit(rest.position() + Math.min(rest.remaining(), page.remaining()));
            page.put(rest);
        }
        makeVoid(page);
        return page.clear();
    }

    /**
     * The fixed part of a header, read first: the object's length and batch count, and whether the
     * object is void (to be stepped over), or null if it is no header.
     */
    public record Fixed(int objectBytes, int batchCount, boolean isVoid) {
        public int headerBytes() {
            return WalObjectFormat.headerBytes(batchCount);
        }
    }

    public static Fixed readFixed(ByteBuffer fixed) {
        boolean isVoid = startsWith(fixed, VOID_MAGIC);
        if (!isVoid && !startsWith(fixed, MAGIC)) {
            return null;
        }
        int objectBytes = fixed.getInt(16);
        int batchCount = fixed.getInt(20);
        if (batchCount <= 0 || batchCount > MAX_BATCHES || objectBytes < headerBytes(batchCount)) {
            return null;
        }
        if (isVoid && fixed.getInt(CRC_POSITION) != fixedCrc(fixed)) {
            return null;
        }
        return new Fixed(objectBytes, batchCount, isVoid);
    }

    private static boolean startsWith(ByteBuffer fixed, byte[] magic) {
        for (int i = 0; i < magic.length; i++) {
            if (fixed.get(i) != magic[i]) {
                return false;
            }
        }
        return true;
    }

    /** The partitions named by a whole header, or null if its checksum does not match. */
    public static List<PartitionKey> readPartitions(ByteBuffer header, int batchCount) {
        if (header.getInt(CRC_POSITION) != crc(header)) {
            return null;
        }
        List<PartitionKey> partitions = new ArrayList<>(batchCount);
        for (int i = 0; i < batchCount; i++) {
            int at = FIXED_BYTES + i * PER_BATCH_BYTES;
            partitions.add(new PartitionKey(new Uuid(header.getLong(at), header.getLong(at + 8)), header.getInt(at + 16)));
        }
        return partitions;
    }
}
