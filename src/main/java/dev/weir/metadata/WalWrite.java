package dev.weir.metadata;

/**
 * Where a WAL object was written, for its commit: the WAL file, where the object ends in it, whether it
 * is the file's first object, and whether the commit must be on disk when it returns. Without
 * {@code sync} a commit may be lost in a power failure or operating-system crash until the next
 * synced write; the WAL object itself is on disk, and start-up commits it again. {@code replayed}: whether
 * start-up replays the objects written after the last commit (WAL files on local disk); only then is the
 * newest file kept as {@link BatchCoordinator#lastWalFile}, so that commits of objects of their own (on
 * S3) from every broker do not all update that one row.
 */
public record WalWrite(String fileKey, long end, boolean firstInFile, boolean sync, boolean replayed) {
    /** An object of a WAL file on local disk, which start-up replays. */
    public WalWrite(String fileKey, long end, boolean firstInFile, boolean sync) {
        this(fileKey, end, firstInFile, sync, true);
    }
}
