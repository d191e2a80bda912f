package dev.weir.topics;

import dev.weir.log.Log;
import java.time.Clock;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.config.TopicConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces each topic's {@code retention.ms} and {@code retention.bytes} (topic value, else the
 * broker's, else Kafka's default) on topics whose cleanup.policy includes delete, then collects
 * objects nothing refers to. Runs every {@code log.retention.check.interval.ms} on one thread, so the
 * background work is bounded to one core at most.
 */
public final class RetentionService {
    private static final Logger LOG = LoggerFactory.getLogger(RetentionService.class);

    private final TopicService topics;
    private final Log log;
    private final Clock clock;
    private final long deleteDelayMs;

    public RetentionService(TopicService topics, Log log, Clock clock, long deleteDelayMs) {
        this.topics = topics;
        this.log = log;
        this.clock = clock;
        this.deleteDelayMs = deleteDelayMs;
    }

    public void schedule(ScheduledExecutorService executor, long intervalMs) {
        executor.scheduleWithFixedDelay(this::runSafely, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
    }

    private void runSafely() {
        try {
            runOnce();
        } catch (RuntimeException e) {
            LOG.error("Retention pass failed; it is retried at the next interval", e);
        }
    }

    /** One pass over every topic, then garbage collection. */
    public void runOnce() {
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
                } catch (dev.weir.log.UnknownPartitionException deletedMeanwhile) {
                    break;
                }
            }
        }
        log.collectGarbage(nowMs, deleteDelayMs);
    }
}
