package dev.weir.log.recovery;

import dev.weir.log.format.WalObjectFormat;
import dev.weir.metadata.BatchAppend;
import dev.weir.metadata.MetadataStore;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.WalWrite;
import dev.weir.storage.ObjectStore;
import dev.weir.storage.StorageException;
import dev.weir.storage.WalFile;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up's replay of the write-ahead log. A WAL object is synced to disk before its commit, but the
 * commit itself is not synced (one sync per acknowledgement instead of two), so a power failure or an
 * operating-system crash may take the last commits while their objects are safe. Those objects follow
 * the last committed one: after the committed end of the newest WAL file that had a commit, and in
 * the WAL files after it. Each is committed again, in order, through the same commit as before, which
 * gives its batches the same offsets and producer checks as the first time: every later write was
 * lost with it, since any synced write makes the commits before it durable.
 *
 * <p>Objects start at page boundaries ({@link WalFile#ALIGNMENT}). A file is read until the first
 * object that is not whole (a write cut off by the crash, or the zeros of a file made ahead); reading
 * goes on with the next file, whose objects were written after. A void object is stepped over: its
 * commit failed and its producers were told so (see {@link WalObjectFormat}), so committing it now
 * would bring back records a producer may have sent again; and the live commit did without it, so the
 * objects after it get the same offsets as then.
 */
public final class WalReplay {
    private static final Logger LOG = LoggerFactory.getLogger(WalReplay.class);

    private WalReplay() {
    }

    /**
     * Commits again the WAL objects whose commits were lost; returns how many. {@code walFiles} are the
     * WAL files in the store, in key order, and {@code committed} the committed object keys.
     */
    public static int replay(ObjectStore store, MetadataStore metadata, List<String> walFiles, Set<String> committed) {
        Optional<String> last = metadata.lastWalFile();
        int objects = 0;
        int batches = 0;
        int voids = 0;
        for (String key : walFiles) {
            long from;
            if (last.isPresent() && key.equals(last.get())) {
                if (!committed.contains(key)) {
                    continue; // merged and deleted: everything in it was committed
                }
                from = WalFile.aligned(metadata.objectSize(key));
            } else if ((last.isEmpty() || key.compareTo(last.get()) > 0) && !committed.contains(key)) {
                from = 0;
            } else {
                continue; // before the last file, or committed before last_wal_file was kept (an older data directory)
            }
            long fileSize = store.size(key);
            boolean firstInFile = from == 0;
            for (Found found = read(store, key, from, fileSize); found != null; found = read(store, key, from, fileSize)) {
                from = WalFile.aligned(found.end);
                if (found.isVoid) {
                    voids++;
                    continue;
                }
                metadata.commit(new WalWrite(key, found.end, firstInFile, true), found.appends);
                firstInFile = false;
                objects++;
                batches += found.appends.size();
            }
        }
        if (voids > 0) {
            LOG.info("Stepped over {} void WAL objects: their commits failed and their producers were told so", voids);
        }
        if (objects > 0) {
            LOG.warn("Committed {} WAL objects ({} batches) written after the last commit: the broker stopped between"
                + " their write and their commit, or the commits were lost with the operating system", objects, batches);
        }
        return objects;
    }

    /** An object of a WAL file: where it ends, and its batches, unless it is void. */
    private record Found(long end, List<BatchAppend> appends, boolean isVoid) {
    }

    /** The whole WAL object at {@code position} of the file (or a void one), or null if there is none. */
    private static Found read(ObjectStore store, String key, long position, long fileSize) {
        try {
            ByteBuffer fixed = store.read(key, position, WalObjectFormat.FIXED_BYTES);
            WalObjectFormat.Fixed header = WalObjectFormat.readFixed(fixed);
            if (header == null) {
                return null;
            }
            if (position + header.objectBytes() > fileSize) {
                return null;
            }
            if (header.isVoid()) {
                return new Found(position + header.objectBytes(), List.of(), true);
            }
            ByteBuffer object = store.read(key, position, header.objectBytes());
            List<PartitionKey> partitions = WalObjectFormat.readPartitions(
                object.duplicate().limit(header.headerBytes()).slice(), header.batchCount());
            if (partitions == null) {
                return null;
            }
            List<BatchAppend> appends = appends(object.position(header.headerBytes()).slice(), partitions,
                position + header.headerBytes());
            return appends == null ? null : new Found(position + header.objectBytes(), appends, false);
        } catch (StorageException endOfFile) {
            return null;
        }
    }

    /** The batches of an object's body, each whole and matching its CRC, one per partition named; else null. */
    private static List<BatchAppend> appends(ByteBuffer body, List<PartitionKey> partitions, long bodyPosition) {
        List<BatchAppend> appends = new ArrayList<>(partitions.size());
        long position = bodyPosition;
        int end = body.limit();
        for (PartitionKey partition : partitions) {
            if (body.remaining() < org.apache.kafka.common.record.internal.Records.LOG_OVERHEAD) {
                return null;
            }
            int size = body.getInt(body.position() + org.apache.kafka.common.record.internal.Records.SIZE_OFFSET)
                + org.apache.kafka.common.record.internal.Records.LOG_OVERHEAD;
            if (size <= org.apache.kafka.common.record.internal.Records.LOG_OVERHEAD || size > body.remaining()) {
                return null;
            }
            ByteBuffer bytes = body.duplicate().limit(body.position() + size).slice();
            var iterator = MemoryRecords.readableRecords(bytes).batches().iterator();
            if (!iterator.hasNext()) {
                return null;
            }
            MutableRecordBatch batch = iterator.next();
            if (batch.magic() != RecordBatch.MAGIC_VALUE_V2 || batch.sizeInBytes() != size || !batch.isValid()) {
                return null;
            }
            appends.add(new BatchAppend(partition, position, size, (int) (batch.lastOffset() - batch.baseOffset() + 1),
                batch.maxTimestamp(), batch.producerId(), batch.producerEpoch(), batch.baseSequence()));
            body.position(body.position() + size);
            position += size;
        }
        return body.position() == end ? appends : null;
    }
}
