package dev.weir.log;

/**
 * The log's own limits: WAL object size and age, how many objects may be written at once, and the
 * in-memory tail per partition.
 */
public record LogSettings(int walObjectMaxBytes, int walObjectMaxAgeMs, int walMaxInFlightObjects,
                          int tailIndexMaxBatches) {
}
