package dev.weir.log.policy;

import org.apache.kafka.common.record.TimestampType;

/** The per-topic settings that decide whether a produced batch is accepted and how it is stamped. */
public record TopicLimits(int maxMessageBytes, TimestampType timestampType, long timestampBeforeMaxMs,
                          long timestampAfterMaxMs, boolean compacted) {
}
