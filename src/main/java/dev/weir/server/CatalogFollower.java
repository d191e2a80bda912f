package dev.weir.server;

import dev.weir.log.Log;
import dev.weir.metadata.TopicCatalog;
import dev.weir.topics.TopicService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this broker's topics and partition offsets in step with the changes other brokers on the same
 * database make (topics created or deleted, partitions added, configs replaced, log starts moved): each
 * change heard of re-reads the catalog and the offsets, on a thread of its own, and so does the passing
 * of 30 s without one (a notice may be lost with the listening connection, a refresh may fail). Changes
 * heard of while a refresh runs lead to one more refresh, not one each. With SQLite nothing is ever
 * heard of.
 */
final class CatalogFollower implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CatalogFollower.class);

    private final TopicService topics;
    private final Log log;
    /** How often the catalog is read again without a notice, in case one was lost or a refresh failed. */
    static final long REFRESH_ANYWAY_MS = 30_000;

    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread refresher = new Thread(runnable, "weir-catalog");
        refresher.setDaemon(true);
        return refresher;
    });
    /** A refresh is queued and has not begun: further changes heard of until then are covered by it. */
    private final AtomicBoolean queued = new AtomicBoolean();
    private final AutoCloseable following;

    /** With {@code shared}, other brokers use the database: their changes are also looked for every 30 s. */
    CatalogFollower(TopicCatalog catalog, TopicService topics, Log log, boolean shared) {
        this.topics = topics;
        this.log = log;
        this.following = catalog.followCatalog(this::changed);
        if (shared) {
            thread.scheduleWithFixedDelay(this::changed, REFRESH_ANYWAY_MS, REFRESH_ANYWAY_MS, TimeUnit.MILLISECONDS);
        }
    }

    private void changed() {
        if (queued.compareAndSet(false, true)) {
            thread.execute(this::refresh);
        }
    }

    private void refresh() {
        queued.set(false);
        try {
            topics.refresh();
            log.refreshFromStore();
        } catch (RuntimeException e) {
            LOG.warn("Reading other brokers' topic changes failed; tried again at the next change heard of, or in {} s:"
                + " {}", REFRESH_ANYWAY_MS / 1000, e.toString());
        }
    }

    @Override
    public void close() {
        try {
            following.close();
        } catch (Exception e) {
            LOG.warn("Stopping to listen for other brokers' topic changes failed", e);
        }
        thread.shutdownNow();
        try {
            thread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
