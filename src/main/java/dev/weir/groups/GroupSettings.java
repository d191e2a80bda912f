package dev.weir.groups;

/**
 * The group coordinator's limits, with Kafka's names in {@code BrokerConfig}: session timeout bounds,
 * the initial rebalance delay, the most members per group, the largest member metadata and offset
 * metadata, the number of groups, how long the offsets of an empty group are kept, and the heap that
 * the members of all groups may hold ({@link GroupMemory}).
 */
public record GroupSettings(int minSessionTimeoutMs, int maxSessionTimeoutMs, int initialRebalanceDelayMs,
                            int maxGroupSize, int maxMemberMetadataBytes, int offsetMetadataMaxBytes, int maxGroups,
                            long offsetsRetentionMs, int consumerHeartbeatIntervalMs, int consumerSessionTimeoutMs,
                            long maxTotalMetadataBytes) {
}
