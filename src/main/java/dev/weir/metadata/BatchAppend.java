package dev.weir.metadata;

/**
 * One validated batch inside a written object, to be committed. {@code offsetCount} is the batch's
 * last offset delta plus one; the producer fields are -1 for a non-idempotent batch.
 */
public record BatchAppend(PartitionKey partition, long position, int size, int offsetCount, long maxTimestamp,
                          long producerId, short producerEpoch, int baseSequence) {
    public boolean isIdempotent() {
        return producerId >= 0;
    }

    public int lastSequence() {
        long last = (long) baseSequence + offsetCount - 1;
        return (int) (last > Integer.MAX_VALUE ? last - Integer.MAX_VALUE - 1 : last);
    }
}
