package dev.weir.topics;

import dev.weir.log.CompactionSettings;
import dev.weir.log.Compactor;
import dev.weir.log.Log;
import dev.weir.log.Merger;
import dev.weir.log.UnknownPartitionException;
import dev.weir.metadata.PartitionKey;
import java.time.Clock;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.config.TopicConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log's background work, all on one thread so that it never takes more than one core: merging
 * WAL objects older than {@code log.merge.min.age.ms} into segments every {@code log.merge.interval.ms}, followed by compaction of the topics
 * whose cleanup.policy includes compact; enforcing each topic's
 * {@code retention.ms} and {@code retention.bytes} (topic value, else the broker's, else Kafka's
 * default) on topics whose cleanup.policy includes delete every {@code log.retention.check.interval.ms};
 * and after either, deleting objects nothing has referred to for {@code log.segment.delete.delay.ms}.
 */
public final class LogCleaner {
    private static final Logger LOG = LoggerFactory.getLogger(LogCleaner.class);

    private final TopicService topics;
    private final Log log;
    private final Merger merger;
    private final Compactor compactor;
    private final Clock clock;
    private final long deleteDelayMs;
    private final long mergeMinAgeMs;

    public LogCleaner(TopicService topics, Log log, Merger merger, Compactor compactor, Clock clock, long deleteDelayMs,
                      long mergeMinAgeMs) {
        this.topics = topics;
        this.log = log;
        this.merger = merger;
        this.compactor = compactor;
        this.clock = clock;
        this.deleteDelayMs = deleteDelayMs;
        this.mergeMinAgeMs = mergeMinAgeMs;
    }

    public void schedule(ScheduledExecutorService executor, long retentionIntervalMs, long mergeIntervalMs) {
        executor.scheduleWithFixedDelay(() -> runSafely("Merging", this::mergeOnce), mergeIntervalMs, mergeIntervalMs,
            TimeUnit.MILLISECONDS);
        executor.scheduleWithFixedDelay(() -> runSafely("Retention", this::enforceRetentionOnce), retentionIntervalMs,
            retentionIntervalMs, TimeUnit.MILLISECONDS);
    }

    private static void runSafely(String what, Runnable work) {
        try {
            work.run();
        } catch (RuntimeException e) {
            LOG.error("{} failed; it is retried at the next interval", what, e);
        }
    }

    /** One merging pass, compaction of the topics whose cleanup.policy includes compact, then garbage collection. */
    public void mergeOnce() {
        merger.mergeOnce(this::segmentBytes, mergeMinAgeMs);
        for (Topic topic : topics.all()) {
            if (!topics.configs().value(TopicConfig.CLEANUP_POLICY_CONFIG, topic.configs()).contains("compact")) {
                continue;
            }
            CompactionSettings settings = new CompactionSettings(
                Double.parseDouble(topics.configs().value(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, topic.configs())),
                Long.parseLong(topics.configs().value(TopicConfig.DELETE_RETENTION_MS_CONFIG, topic.configs())),
                Long.parseLong(topics.configs().value(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, topic.configs())),
                Long.parseLong(topics.configs().value(TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG, topic.configs())),
                Long.parseLong(topics.configs().value(TopicConfig.SEGMENT_BYTES_CONFIG, topic.configs())));
            for (int partition = 0; partition < topic.partitions(); partition++) {
                if (topics.byId(topic.id()).isEmpty()) {
                    break;
                }
                try {
                    compactor.maybeCompact(topic.partition(partition), settings);
                } catch (UnknownPartitionException deletedMeanwhile) {
                    break;
                }
            }
        }
        log.collectGarbage(clock.millis(), deleteDelayMs);
    }

    private long segmentBytes(PartitionKey partition) {
        Topic topic = topics.byId(partition.topicId()).orElseThrow(
            () -> new UnknownPartitionException("Unknown partition " + partition));
        return Long.parseLong(topics.configs().value(TopicConfig.SEGMENT_BYTES_CONFIG, topic.configs()));
    }

    /** One retention pass over every topic, then garbage collection. */
    public void enforceRetentionOnce() {
        long nowMs = clock.millis();
        for (Topic topic : topics.all()) {
            String policy = topics.configs().value(TopicConfig.CLEANUP_POLICY_CONFIG, topic.configs());
            if (!policy.contains("delete")) {
                continue;
            }
            long retentionMs = Long.parseLong(topics.configs().value(TopicConfig.RETENTION_MS_CONFIG, topic.configs()));
            long retentionBytes = Long.parseLong(topics.configs().value(TopicConfig.RETENTION_BYTES_CONFIG, topic.configs()));
            if (retentionMs < 0 && retentionBytes < 0) {
                continue;
            }
            for (int partition = 0; partition < topic.partitions(); partition++) {
                if (topics.byId(topic.id()).isEmpty()) {
                    break;
                }
                try {
                    log.enforceRetention(topic.partition(partition), retentionMs, retentionBytes, nowMs);
                } catch (UnknownPartitionException deletedMeanwhile) {
                    break;
                }
            }
        }
        log.collectGarbage(nowMs, deleteDelayMs);
    }
}
