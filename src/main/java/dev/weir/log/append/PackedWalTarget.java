package dev.weir.log.append;

import dev.weir.log.format.WalObjectFormat;
import dev.weir.log.recovery.WalReplay;
import dev.weir.storage.ObjectStore;
import dev.weir.storage.WalFile;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * WAL objects written one after another into WAL files of {@code fileBytes}, each created (and, on local
 * disk, allocated) ahead of use (see {@link WalFiles}), so writing an object is one positional write and
 * one data sync. A file is rolled when the next object does not fit or it is older than
 * {@code fileRollMs}; an object larger than a file gets a file of its own size. Objects start and end at
 * page boundaries ({@link WalFile#ALIGNMENT}). A commit need not be synced: start-up commits again the
 * objects written after the last commit ({@link WalReplay}), and an object whose commit failed is made
 * void in its file so that it does not.
 */
public final class PackedWalTarget implements WalTarget {
    private final WalFiles files;
    private final long fileRollNanos;
    /** The file being filled, where its next object goes and when it was opened; only the sealing thread touches these. */
    private WalFile current;
    private long currentPosition;
    private long currentOpenedNanos;
    /** A file retired when no new one could be made, released by the next placement that makes one. */
    private WalFile unreleased;
    /** Set after a failure, so the sealing thread starts a new file. */
    private volatile boolean rollRequested;

    public PackedWalTarget(ObjectStore store, long fileBytes, long fileRollMs, LongSupplier objectIds) {
        this.files = new WalFiles(store, fileBytes, objectIds);
        this.fileRollNanos = TimeUnit.MILLISECONDS.toNanos(fileRollMs);
    }

    @Override
    public WalPlacement place(int size) {
        long footprint = WalFile.aligned(size);
        WalFile retired = null;
        boolean newFile = false;
        if (current == null || rollRequested || currentPosition + footprint > current.capacity()
            || System.nanoTime() - currentOpenedNanos >= fileRollNanos) {
            rollRequested = false;
            retired = current != null ? current : unreleased;
            current = null;
            unreleased = null;
            try {
                current = files.roll(footprint);
            } catch (RuntimeException e) {
                // Objects sealed before may still be writing into the retired file: the next placement releases it.
                unreleased = retired;
                throw e;
            }
            currentPosition = 0;
            currentOpenedNanos = System.nanoTime();
            newFile = true;
        }
        long start = currentPosition;
        currentPosition += footprint;
        return new WalPlacement(current.key(), start, newFile, footprint, current, retired);
    }

    @Override
    public void write(WalPlacement placement, ByteBuffer[] parts) {
        placement.file().write(placement.position(), parts);
    }

    /**
     * Rewrites the first page of the object with a void header and syncs it. The page lies in the file's
     * allocated room, so this needs no free space on a full disk.
     */
    @Override
    public void discard(WalPlacement placement, ByteBuffer[] parts) {
        placement.file().write(placement.position(), new ByteBuffer[] {WalObjectFormat.voidFirstPage(parts)});
    }

    @Override
    public void startOver() {
        rollRequested = true;
    }

    @Override
    public void commitOver(WalPlacement placement) {
        if (placement.retired() != null) {
            // Every object of the retired file was sealed before this one, so all are committed now.
            placement.retired().close();
        }
    }

    @Override
    public boolean sealsWhenIdle() {
        return true;
    }

    @Override
    public boolean replaysUncommitted() {
        return true;
    }

    @Override
    public void close() {
        if (current != null) {
            current.close();
        }
        if (unreleased != null) {
            unreleased.close();
        }
        files.close();
    }
}
