package dev.weir.metadata;

/**
 * Where a WAL object was written, for its commit: the WAL file, where the object ends in it, whether it
 * is the file's first object, and whether the commit must be on disk when it returns. Without
 * {@code sync} a commit may be lost in a power failure or operating-system crash until the next
 * synced write; the WAL object itself is on disk, and start-up commits it again.
 */
public record WalWrite(String fileKey, long end, boolean firstInFile, boolean sync) {
}
