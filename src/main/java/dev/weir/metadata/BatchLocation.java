package dev.weir.metadata;

/**
 * Where a committed batch lies: its offsets, its object and its byte range there. {@code finalInObject}
 * says that the bytes in a WAL object already carry the batch's base offset and leader epoch, so they
 * can be sent as they are; it is known only for batches committed since the broker started, and false
 * for rows read from the index.
 */
public record BatchLocation(long baseOffset, long lastOffset, String objectKey, long position, int size,
                            long maxTimestamp, boolean finalInObject) {
    public BatchLocation(long baseOffset, long lastOffset, String objectKey, long position, int size, long maxTimestamp) {
        this(baseOffset, lastOffset, objectKey, position, size, maxTimestamp, false);
    }
}
