package dev.weir.metadata;

/**
 * A committed WAL file that holds rows kept in place by merging: its committed bytes, when its last
 * object was committed, and how many of its bytes the index still refers to.
 */
public record WalFileUse(String objectKey, long committedBytes, long committedMs, long referencedBytes) {
}
