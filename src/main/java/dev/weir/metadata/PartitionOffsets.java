package dev.weir.metadata;

/** The first offset still readable and the next offset to assign (the log end offset, exclusive). */
public record PartitionOffsets(long logStartOffset, long nextOffset) {
    public PartitionOffsets {
        if (logStartOffset < 0 || nextOffset < logStartOffset) {
            throw new IllegalStateException("bad offsets: start " + logStartOffset + ", next " + nextOffset);
        }
    }
}
