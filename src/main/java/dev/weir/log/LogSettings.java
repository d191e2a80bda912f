package dev.weir.log;

/** The log's own limits: WAL object size and age, and the in-memory tail per partition. */
public record LogSettings(int walObjectMaxBytes, int walObjectMaxAgeMs, int tailIndexMaxBatches) {
}
