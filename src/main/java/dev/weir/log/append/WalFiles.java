package dev.weir.log.append;

import dev.weir.storage.ObjectStore;
import dev.weir.storage.StorageException;
import dev.weir.storage.WalFile;
import dev.weir.storage.WalFileStore;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WAL files the writer fills one after another. The next one is made (created and, on local disk,
 * allocated) ahead, on a thread of its own, while the current one fills, so that moving on costs
 * nothing. Only one file is ever being made: when the one made ahead failed, or is too small for the
 * object at hand, the next is made on the caller's thread, and the one after it is started only then.
 * Two files made at once would race for the room a nearly full disk has left and could both fail.
 *
 * <p>Files are asked for at {@code fileBytes}; a store short of room may make them smaller, down to the
 * size of the object at hand, so writing goes on as long as one object fits. Not thread-safe: the
 * sealing thread rolls, and closes once it has stopped.
 */
final class WalFiles implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WalFiles.class);

    private final ObjectStore store;
    private final WalFileStore walFiles;
    private final long fileBytes;
    private final ExecutorService preparer;
    private final LongSupplier objectIds;
    /** The file being made ahead, or null when none is (its making failed, or the last roll did). */
    private CompletableFuture<WalFile> next;
    /** Whether the last file rolled to was smaller than {@code fileBytes}, so that is said once. */
    private boolean shrunk;

    WalFiles(ObjectStore store, long fileBytes, LongSupplier objectIds) {
        this.store = store;
        this.walFiles = store.walFiles().orElseThrow(() -> new IllegalArgumentException(
            "WAL objects are packed into WAL files, which this object store does not keep"));
        this.fileBytes = fileBytes;
        this.objectIds = objectIds;
        this.preparer = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "weir-wal-prepare");
            thread.setDaemon(true);
            return thread;
        });
        this.next = makeAhead();
    }

    /**
     * A new file with room for an object of {@code objectBytes}: the one made ahead if it has that room,
     * else one made now; then the one after it is started ahead. Throws {@link StorageException} when no
     * file can be made, and then makes none ahead either: the next roll tries again.
     */
    WalFile roll(long objectBytes) {
        WalFile file = takeMadeAhead();
        if (file != null && file.capacity() < objectBytes) {
            // Never committed, so nothing refers to it; the object gets a file of its size under the next key.
            file.close();
            store.delete(file.key());
            file = null;
        }
        if (file == null) {
            file = walFiles.createWalFile(WalWriter.objectKey(objectIds.getAsLong()), Math.max(fileBytes, objectBytes), objectBytes);
        }
        noteSize(file);
        next = makeAhead();
        return file;
    }

    /** Starts making the next file on the preparing thread, at least a page, as much as the store gives. */
    private CompletableFuture<WalFile> makeAhead() {
        String key = WalWriter.objectKey(objectIds.getAsLong());
        return CompletableFuture.supplyAsync(() -> walFiles.createWalFile(key, fileBytes, WalFile.ALIGNMENT), preparer);
    }

    /** The file made ahead, or null if its making failed: the caller then makes one itself, with its own error. */
    private WalFile takeMadeAhead() {
        CompletableFuture<WalFile> made = next;
        next = null;
        if (made == null) {
            return null;
        }
        try {
            return made.join();
        } catch (CompletionException e) {
            LOG.debug("Making a WAL file ahead failed; one is made for the next object instead", e.getCause());
            return null;
        }
    }

    /** Says once that files are made smaller than asked for, and once that they are not any more. */
    private void noteSize(WalFile file) {
        boolean smaller = file.capacity() < fileBytes;
        if (smaller && !shrunk) {
            LOG.warn("The disk is nearly full: WAL files are made smaller than wal.file.bytes ({} bytes, {} this time)"
                + " until there is room again", fileBytes, file.capacity());
        } else if (!smaller && shrunk) {
            LOG.info("WAL files are made with wal.file.bytes ({} bytes) again", fileBytes);
        }
        shrunk = smaller;
    }

    /** Deletes the file made ahead, if any: nothing refers to it. */
    @Override
    public void close() {
        CompletableFuture<WalFile> made = next;
        next = null;
        try {
            if (made != null) {
                WalFile unused = made.join();
                unused.close();
                store.delete(unused.key());
            }
        } catch (CompletionException | StorageException e) {
            LOG.debug("The WAL file made ahead is left for the next start to delete", e);
        }
        preparer.shutdown();
    }
}
