package dev.weir.log;

/** A record's offset and timestamp, the answer to ListOffsets by time. */
public record TimestampOffset(long timestamp, long offset) {
}
