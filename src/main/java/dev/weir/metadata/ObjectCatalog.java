package dev.weir.metadata;

import java.util.List;
import java.util.Set;

/**
 * The committed objects, for recovery and garbage collection: their sizes, and which of them nothing
 * refers to any more. One role of the {@link MetadataStore}; thread-safe, every method may block on
 * I/O and throws {@link MetadataException} on failure.
 */
public interface ObjectCatalog {
    /** The recorded size of a committed object, or -1: for a WAL file, where its last committed object ends. */
    long objectSize(String objectKey);

    /**
     * Marks committed objects that no batch refers to any more (at {@code nowMs}, if not marked
     * before) and returns those marked at or before {@code cutoffMs}: safe to delete.
     */
    List<String> unreferencedObjects(long nowMs, long cutoffMs);

    /** Forgets an object about to be deleted; false (and nothing forgotten) if a batch refers to it. */
    boolean forgetObject(String objectKey);

    /**
     * Forgets objects about to be deleted, in one transaction, as {@link #forgetObject} does each, and
     * returns those forgotten in the order given: not those a batch refers to, nor those not recorded.
     */
    List<String> forgetObjects(List<String> objectKeys);

    /** Keys of every committed object. */
    Set<String> committedObjectKeys();
}
