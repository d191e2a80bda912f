package dev.weir.topics;

import dev.weir.log.CompactionSettings;
import dev.weir.log.TopicLimits;
import java.util.Map;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.record.TimestampType;

/**
 * A topic's configs resolved once (the topic's value, else the broker's, else Kafka's default) into
 * what the log does with it: the limits of produced batches, whether old data is deleted by age or size
 * and how, whether it is compacted and how, and the size of merged segments. Made anew when the
 * topic's configs change.
 */
public record TopicPolicy(TopicLimits limits, boolean deletes, long retentionMs, long retentionBytes, boolean compacts,
                          CompactionSettings compaction, long segmentBytes) {
    static TopicPolicy resolve(TopicConfigs configs, Map<String, String> explicit) {
        String cleanupPolicy = configs.value(TopicConfig.CLEANUP_POLICY_CONFIG, explicit);
        boolean compacts = cleanupPolicy.contains(TopicConfig.CLEANUP_POLICY_COMPACT);
        long segmentBytes = Long.parseLong(configs.value(TopicConfig.SEGMENT_BYTES_CONFIG, explicit));
        TopicLimits limits = new TopicLimits(
            Integer.parseInt(configs.value(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, explicit)),
            TimestampType.forName(configs.value(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, explicit)),
            Long.parseLong(configs.value(TopicConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS_CONFIG, explicit)),
            Long.parseLong(configs.value(TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_CONFIG, explicit)),
            compacts);
        CompactionSettings compaction = new CompactionSettings(
            Double.parseDouble(configs.value(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, explicit)),
            Long.parseLong(configs.value(TopicConfig.DELETE_RETENTION_MS_CONFIG, explicit)),
            Long.parseLong(configs.value(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, explicit)),
            Long.parseLong(configs.value(TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG, explicit)),
            segmentBytes);
        return new TopicPolicy(limits, cleanupPolicy.contains(TopicConfig.CLEANUP_POLICY_DELETE),
            Long.parseLong(configs.value(TopicConfig.RETENTION_MS_CONFIG, explicit)),
            Long.parseLong(configs.value(TopicConfig.RETENTION_BYTES_CONFIG, explicit)), compacts, compaction,
            segmentBytes);
    }

    /** Whether retention deletes anything: the topic deletes, by age or by size. */
    public boolean retains() {
        return deletes && (retentionMs >= 0 || retentionBytes >= 0);
    }
}
