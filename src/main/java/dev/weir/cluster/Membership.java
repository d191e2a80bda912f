package dev.weir.cluster;

import dev.weir.metadata.BrokerRegistration;
import dev.weir.metadata.BrokerRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This broker's place among the brokers on the metadata database: it registers under its node id,
 * heartbeats every {@code heartbeatIntervalMs}, and keeps the set of live brokers (those whose heartbeat
 * is at most {@code sessionTimeoutMs} old), read again with each heartbeat, for Metadata and the like.
 *
 * <p>A node id held by another instance is taken over only once that instance is seen dead: its
 * registration is older than the session timeout, or its heartbeat does not move for a whole session
 * timeout while this one waits (a broker restarted at once after a crash waits that long). One whose
 * heartbeat moves belongs to a running broker: this one refuses to start. Where one process opens the
 * database (SQLite, under the data directory's lock) the node id is always this broker's at once.
 * Thread-safe.
 */
public final class Membership implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);

    /** Where this broker is reached, as registered. */
    public record Self(int nodeId, String host, int port, String rack) {
    }

    private final BrokerRegistry registry;
    private final Self self;
    private final String instanceId = UUID.randomUUID().toString();
    private final Clock clock;
    private final long sessionTimeoutMs;
    private final long heartbeatIntervalMs;
    private volatile List<BrokerRegistration> live;
    private volatile ScheduledFuture<?> heartbeats;
    private volatile boolean failing;
    /** Set by {@link #close}: a heartbeat that finds the registration gone then is not a takeover. */
    private volatile boolean closed;
    private final List<Runnable> changeListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public Membership(BrokerRegistry registry, Self self, Clock clock, long sessionTimeoutMs, long heartbeatIntervalMs) {
        this.registry = registry;
        this.self = self;
        this.clock = clock;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.heartbeatIntervalMs = heartbeatIntervalMs;
        this.live = List.of(registration(clock.millis()));
    }

    /**
     * Registers this broker, waiting up to a session timeout for another instance holding its node id to be
     * seen dead, then heartbeats on {@code timer}; {@code fenced} runs if another instance takes the node id
     * over later. With {@code exclusive} (one process opens the database) the node id is this broker's at
     * once, and there is nobody to heartbeat to: it is the only live broker.
     *
     * @throws NodeIdInUseException if a running broker holds the node id
     */
    public void join(boolean exclusive, ScheduledExecutorService timer, Runnable fenced) throws InterruptedException {
        long now = clock.millis();
        BrokerRegistration holder = registry.register(registration(now), exclusive ? Long.MAX_VALUE : now - sessionTimeoutMs);
        if (exclusive) {
            return;
        }
        if (holder != null) {
            takeOver(holder);
        }
        refreshLive();
        heartbeats = timer.scheduleWithFixedDelay(() -> heartbeat(fenced), heartbeatIntervalMs, heartbeatIntervalMs,
            TimeUnit.MILLISECONDS);
    }

    private void takeOver(BrokerRegistration holder) throws InterruptedException {
        LOG.info("node.id {} is registered by another instance at {}:{}, whose last heartbeat was {} ms ago; waiting up"
                + " to {} ms for it to stop", self.nodeId(), holder.host(), holder.port(),
            clock.millis() - holder.heartbeatMs(), sessionTimeoutMs);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(sessionTimeoutMs);
        while (true) {
            Thread.sleep(Math.min(heartbeatIntervalMs, 500));
            BrokerRegistration current = registry.brokers().stream()
                .filter(broker -> broker.nodeId() == self.nodeId()).findFirst().orElse(null);
            boolean gone = current == null;
            if (!gone && (!current.instanceId().equals(holder.instanceId()) || current.heartbeatMs() != holder.heartbeatMs())) {
                throw inUse(current);
            }
            if (gone || System.nanoTime() - deadline >= 0) {
                BrokerRegistration stillHeld = registry.register(registration(clock.millis()),
                    gone ? clock.millis() - sessionTimeoutMs : holder.heartbeatMs());
                if (stillHeld == null) {
                    LOG.info("node.id {} taken over from an instance that stopped", self.nodeId());
                    return;
                }
                throw inUse(stillHeld);
            }
        }
    }

    private NodeIdInUseException inUse(BrokerRegistration holder) {
        return new NodeIdInUseException("node.id " + self.nodeId() + " is in use by a running broker at " + holder.host()
            + ":" + holder.port() + " (its heartbeat moved while this broker waited " + sessionTimeoutMs
            + " ms): give each broker a node.id of its own");
    }

    private void heartbeat(Runnable fenced) {
        if (closed) {
            return;
        }
        try {
            if (!registry.heartbeat(self.nodeId(), instanceId, clock.millis()) && !closed) {
                LOG.error("Another broker took over node.id {}: this one was taken for dead (its heartbeats stopped for"
                    + " {} ms)", self.nodeId(), sessionTimeoutMs);
                heartbeats.cancel(false);
                fenced.run();
                return;
            }
            refreshLive();
            if (failing) {
                LOG.info("Heartbeats reach the metadata database again");
                failing = false;
            }
        } catch (RuntimeException e) {
            if (!failing) {
                LOG.warn("A heartbeat failed; retrying every {} ms: {}", heartbeatIntervalMs, e.toString());
                failing = true;
            }
        }
    }

    private void refreshLive() {
        long now = clock.millis();
        List<BrokerRegistration> alive = new ArrayList<>(registry.brokers().stream()
            .filter(broker -> broker.nodeId() == self.nodeId() ? broker.instanceId().equals(instanceId)
                : broker.heartbeatMs() >= now - sessionTimeoutMs)
            .toList());
        if (alive.stream().noneMatch(broker -> broker.nodeId() == self.nodeId())) {
            // This broker is alive whatever its row says (a heartbeat not written yet).
            alive.add(registration(now));
            alive.sort(Comparator.comparingInt(BrokerRegistration::nodeId));
        }
        List<BrokerRegistration> before = live;
        live = List.copyOf(alive);
        if (!nodeIds(before).equals(nodeIds(live))) {
            LOG.info("Live brokers: {}", nodeIds(live));
            changeListeners.forEach(Runnable::run);
        }
    }

    private static List<Integer> nodeIds(List<BrokerRegistration> brokers) {
        return brokers.stream().map(BrokerRegistration::nodeId).toList();
    }

    /** Runs {@code listener} (on the heartbeat thread) whenever the set of live brokers changes. */
    public void onChange(Runnable listener) {
        changeListeners.add(listener);
    }

    /** The live broker that coordinates {@code key} (a group id): the first of its rendezvous order. */
    public BrokerRegistration coordinator(String key) {
        List<BrokerRegistration> brokers = live;
        if (brokers.size() == 1) {
            return brokers.get(0);
        }
        int chosen = Rendezvous.owner(key, nodeIds(brokers));
        return brokers.stream().filter(broker -> broker.nodeId() == chosen).findFirst().orElseThrow();
    }

    private BrokerRegistration registration(long nowMs) {
        return new BrokerRegistration(self.nodeId(), instanceId, self.host(), self.port(), self.rack(), nowMs);
    }

    /** The live brokers by node id, this one among them, as of the last heartbeat. */
    public List<BrokerRegistration> live() {
        return live;
    }

    public int nodeId() {
        return self.nodeId();
    }

    /**
     * The id clients are given as the controller's: Weir has none (the database orders everything), so the
     * live broker with the lowest node id, the same answer from every broker.
     */
    public int controllerId() {
        return live.get(0).nodeId();
    }

    /** Stops heartbeating and leaves, so the others see this broker gone at once. */
    @Override
    public void close() {
        closed = true;
        ScheduledFuture<?> running = heartbeats;
        if (running != null) {
            running.cancel(false);
        }
        try {
            registry.unregister(self.nodeId(), instanceId);
        } catch (RuntimeException e) {
            LOG.warn("Leaving the broker registry failed; the others see this broker gone after {} ms: {}",
                sessionTimeoutMs, e.toString());
        }
    }
}
