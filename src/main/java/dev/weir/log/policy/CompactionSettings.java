package dev.weir.log.policy;

/** A compacted topic's settings, as its configs resolve (topic, then broker, then Kafka's default). */
public record CompactionSettings(double minCleanableDirtyRatio, long deleteRetentionMs, long minCompactionLagMs,
                                 long maxCompactionLagMs, long segmentBytes) {
}
