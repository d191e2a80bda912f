package dev.weir.log.append;

import dev.weir.storage.ObjectStore;
import java.nio.ByteBuffer;
import java.util.function.LongSupplier;

/**
 * Each WAL object an object of its own, uploaded with one PUT that never overwrites: the shape of an
 * object store without WAL files (S3). Its commit is durable when it returns, so start-up replays
 * nothing: an object that never reached a commit is garbage, and a failed commit needs no undoing.
 * Thread-safe.
 */
public final class ObjectWalTarget implements WalTarget {
    private final ObjectStore store;
    private final LongSupplier objectIds;

    public ObjectWalTarget(ObjectStore store, LongSupplier objectIds) {
        this.store = store;
        this.objectIds = objectIds;
    }

    @Override
    public WalPlacement place(int size) {
        return new WalPlacement(WalWriter.objectKey(objectIds.getAsLong()), 0, true, size, null, null);
    }

    @Override
    public void write(WalPlacement placement, ByteBuffer[] parts) {
        store.put(placement.key(), parts);
    }

    @Override
    public void discard(WalPlacement placement, ByteBuffer[] parts) {
        // Start-up never commits an object of its own that has no commit: nothing to undo.
    }

    @Override
    public void startOver() {
    }

    @Override
    public void commitOver(WalPlacement placement) {
    }

    @Override
    public boolean sealsWhenIdle() {
        return false;
    }

    @Override
    public boolean replaysUncommitted() {
        return false;
    }

    @Override
    public void close() {
    }
}
