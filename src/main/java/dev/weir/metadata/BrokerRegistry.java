package dev.weir.metadata;

import java.util.List;

/**
 * The brokers of the cluster: each registers under its node id and heartbeats; which are alive is for the
 * reader to decide from their heartbeats. One role of the {@link MetadataStore}; thread-safe, every method
 * may block on I/O and throws {@link MetadataException} on failure.
 */
public interface BrokerRegistry {
    /**
     * Records {@code broker} under its node id, replacing a registration of the same instance, or of another
     * one whose last heartbeat is at most {@code replaceHeartbeatAtMostMs} (one taken for dead). Returns
     * null when registered, else the registration that holds the node id.
     */
    BrokerRegistration register(BrokerRegistration broker, long replaceHeartbeatAtMostMs);

    /** Moves the broker's heartbeat to {@code nowMs}; false if another instance holds its node id now. */
    boolean heartbeat(int nodeId, String instanceId, long nowMs);

    /** Removes the registration, if this instance still holds it (a broker shutting down). */
    void unregister(int nodeId, String instanceId);

    /** Every registration, by node id. */
    List<BrokerRegistration> brokers();
}
