package dev.weir.log.policy;


/**
 * A topic's configs resolved once (the topic's value, else the broker's, else Kafka's default; see
 * {@code TopicConfigs.policy}) into what the log does with it: the limits of produced batches, whether old data is deleted by age or size
 * and how, whether it is compacted and how, and the size of merged segments. Made anew when the
 * topic's configs change.
 */
public record TopicPolicy(TopicLimits limits, boolean deletes, long retentionMs, long retentionBytes, boolean compacts,
                          CompactionSettings compaction, long segmentBytes) {
    /** Whether retention deletes anything: the topic deletes, by age or by size. */
    public boolean retains() {
        return deletes && (retentionMs >= 0 || retentionBytes >= 0);
    }
}
