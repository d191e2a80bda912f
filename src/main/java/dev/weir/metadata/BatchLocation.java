package dev.weir.metadata;

/** Where a committed batch lies: its offsets, its object and its byte range there. */
public record BatchLocation(long baseOffset, long lastOffset, String objectKey, long position, int size,
                            long maxTimestamp) {
}
