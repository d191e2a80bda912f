package dev.weir.log.cleaner;

import dev.weir.log.cleaner.Compactor;
import dev.weir.log.Log;
import dev.weir.log.cleaner.CleanedTopics.CleanedTopic;
import dev.weir.log.policy.TopicPolicy;
import dev.weir.log.cleaner.Merger;
import dev.weir.log.UnknownPartitionException;
import dev.weir.metadata.PartitionKey;
import java.time.Clock;
import java.util.function.Consumer;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log's background work, all on one thread so that it never takes more than one core: merging
 * WAL objects older than {@code log.merge.min.age.ms} into segments every {@code log.merge.interval.ms}
 * (and copying batches kept in place out of WAL files that are mostly unreferenced), followed by compaction of the topics
 * whose cleanup.policy includes compact; enforcing each topic's
 * {@code retention.ms} and {@code retention.bytes} (topic value, else the broker's, else Kafka's
 * default) on topics whose cleanup.policy includes delete every {@code log.retention.check.interval.ms};
 * and after either, deleting objects nothing has referred to for {@code log.segment.delete.delay.ms}.
 */
public final class LogCleaner {
    private static final Logger LOG = LoggerFactory.getLogger(LogCleaner.class);

    private final CleanedTopics topics;
    private final Log log;
    private final Merger merger;
    private final Compactor compactor;
    private final Clock clock;
    private final long deleteDelayMs;
    private final long mergeMinAgeMs;

    public LogCleaner(CleanedTopics topics, Log log, Merger merger, Compactor compactor, Clock clock, long deleteDelayMs,
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
        merger.mergeOnce(this::segmentBytes, this::keepInPlace, mergeMinAgeMs);
        merger.thinOutWalFiles(this::segmentBytes, brokerRetentionMs());
        for (CleanedTopic topic : topics.all()) {
            if (topic.policy().compacts()) {
                forEachPartition(topic, partition -> compactor.maybeCompact(partition, topic.policy().compaction()));
            }
        }
        log.collectGarbage(clock.millis(), deleteDelayMs);
    }

    private long segmentBytes(PartitionKey partition) {
        CleanedTopic topic = topics.byId(partition.topicId()).orElseThrow(
            () -> new UnknownPartitionException("Unknown partition " + partition));
        return topic.policy().segmentBytes();
    }

    /**
     * Whether merging may leave the partition's batches in their WAL files: when the topic only deletes,
     * by the broker's retention.ms (not unlimited) and not by size, its batches age out with the other
     * batches kept there, and keep no WAL file on disk longer than its own data would stay. False for a
     * deleted topic.
     */
    private boolean keepInPlace(PartitionKey partition) {
        return topics.byId(partition.topicId()).filter(topic -> {
            TopicPolicy policy = topic.policy();
            return policy.deletes() && !policy.compacts() && policy.retentionBytes() < 0
                && policy.retentionMs() >= 0 && policy.retentionMs() == brokerRetentionMs();
        }).isPresent();
    }

    /** The broker's retention.ms: that of every topic without a value of its own. */
    private long brokerRetentionMs() {
        return topics.defaults().retentionMs();
    }

    /** One retention pass over every topic, then garbage collection. */
    public void enforceRetentionOnce() {
        long nowMs = clock.millis();
        for (CleanedTopic topic : topics.all()) {
            TopicPolicy policy = topic.policy();
            if (policy.retains()) {
                forEachPartition(topic, partition -> log.enforceRetention(partition, policy.retentionMs(),
                    policy.retentionBytes(), nowMs));
            }
        }
        log.collectGarbage(nowMs, deleteDelayMs);
    }

    /** Runs the work on each partition of the topic, stopping if the topic is deleted meanwhile. */
    private void forEachPartition(CleanedTopic topic, Consumer<PartitionKey> work) {
        for (int partition = 0; partition < topic.partitions(); partition++) {
            if (topics.byId(topic.id()).isEmpty()) {
                return;
            }
            try {
                work.accept(new PartitionKey(topic.id(), partition));
            } catch (UnknownPartitionException deletedMeanwhile) {
                return;
            }
        }
    }
}
