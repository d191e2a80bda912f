package dev.weir.metadata;

/** A consumer group's committed position in one partition, with the client's metadata string. */
public record CommittedOffset(String topic, int partition, long offset, int leaderEpoch, String metadata,
                              long commitMs) {
}
