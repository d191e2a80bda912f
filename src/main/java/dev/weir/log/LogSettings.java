package dev.weir.log;

/**
 * The log's own limits: WAL object size and age, how many objects may be written at once, the size
 * and roll time of WAL files, and the number of recent batch locations kept in memory for all
 * partitions together.
 */
public record LogSettings(int walObjectMaxBytes, int walObjectMaxAgeMs, int walMaxInFlightObjects, long walFileBytes,
                          long walFileRollMs, int tailIndexMaxBatches) {
}
