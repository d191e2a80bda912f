package dev.weir.metadata;

/** Builders of what a commit takes, for the metadata stores' tests. */
public final class Batches {
    /** The max timestamp of batches built without one. */
    public static final long TIMESTAMP = 1_700_000_000_000L;
    /** The size of idempotent batches. */
    public static final int IDEMPOTENT_SIZE = 100;

    private Batches() {
    }

    /** A batch of a producer that is not idempotent. */
    public static BatchAppend plain(PartitionKey partition, long position, int size, int offsetCount) {
        return plain(partition, position, size, offsetCount, TIMESTAMP);
    }

    public static BatchAppend plain(PartitionKey partition, long position, int size, int offsetCount, long maxTimestamp) {
        return new BatchAppend(partition, position, size, offsetCount, maxTimestamp, -1, (short) -1, -1);
    }

    /** A batch of an idempotent producer, {@link #IDEMPOTENT_SIZE} bytes at {@code position}. */
    public static BatchAppend idempotent(PartitionKey partition, long position, long producerId, int epoch,
                                         int baseSequence, int offsetCount) {
        return new BatchAppend(partition, position, IDEMPOTENT_SIZE, offsetCount, TIMESTAMP, producerId, (short) epoch,
            baseSequence);
    }

    /** The index row of a batch (or batches) in a WAL file, not merged yet, with the default timestamp. */
    public static BatchLocation wal(long baseOffset, long lastOffset, String file, long position, int size) {
        return new BatchLocation(baseOffset, lastOffset, file, position, size, TIMESTAMP, false);
    }

    /** The first WAL object of a file, ending at {@code end}. */
    public static WalWrite first(String file, long end) {
        return new WalWrite(file, end, true, true);
    }

    /** A later WAL object of a file, ending at {@code end}. */
    public static WalWrite extend(String file, long end) {
        return new WalWrite(file, end, false, true);
    }
}
