package dev.weir.metadata;

/**
 * A broker as the registry holds it: its node id, the id of the running process that holds the node id
 * (a new one each start), where clients reach it, its rack (null if none) and when it last said it was
 * alive, by its own clock.
 */
public record BrokerRegistration(int nodeId, String instanceId, String host, int port, String rack, long heartbeatMs) {
}
