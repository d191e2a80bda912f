package dev.weir.metadata;

/**
 * Where committed batches lie: their offsets, their object and their byte range there. A row of a
 * segment object is a run of consecutive batches with their final offsets written in. A row of a WAL
 * file is one batch whose stored header may not carry its offsets, unless {@code finalInObject} is set:
 * then its bytes carry their base offsets and leader epoch already and can be sent as they are, and it
 * may be a run of several batches (merging keeps such runs where they lie). For a single batch the flag
 * is known only for batches committed since the broker started.
 */
public record BatchLocation(long baseOffset, long lastOffset, String objectKey, long position, int size,
                            long maxTimestamp, boolean finalInObject) {
    public BatchLocation(long baseOffset, long lastOffset, String objectKey, long position, int size, long maxTimestamp) {
        this(baseOffset, lastOffset, objectKey, position, size, maxTimestamp, false);
    }
}
