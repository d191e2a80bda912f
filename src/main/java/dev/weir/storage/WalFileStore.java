package dev.weir.storage;

/**
 * What a store on local disk offers the WAL writer beyond {@link ObjectStore}: files made ahead at
 * their full size and written in place, one WAL object after another ({@link WalFile}), so that each
 * object's write syncs only its data. An object store without it (S3) takes each WAL object as an object
 * of its own. Thread-safe.
 */
public interface WalFileStore {
    /**
     * Creates a WAL file of {@code capacity} bytes under a new key, durably (its name survives a crash
     * once this returns). A store may allocate the whole capacity here, so that each later write syncs
     * only its data.
     */
    default WalFile createWalFile(String key, long capacity) {
        return createWalFile(key, capacity, capacity);
    }

    /**
     * As {@link #createWalFile(String, long)}, but a store that is running out of room may make the file
     * smaller, down to {@code minCapacity}, and leave the rest of its room to other writers: the file's
     * {@link WalFile#capacity()} says what it got. Fails, having written nothing, when not even
     * {@code minCapacity} fits.
     */
    WalFile createWalFile(String key, long capacity, long minCapacity);
}
