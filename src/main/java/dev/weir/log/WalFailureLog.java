package dev.weir.log;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says once that WAL objects cannot be stored, with the first failure's cause, and once that they can
 * again. While a disk is full every produce request fails the same way until room is freed; a line
 * (and a stack trace) per refused object would bury everything else in the log. Thread-safe.
 */
final class WalFailureLog {
    /** The writer's log: these lines are about its objects. */
    private static final Logger LOG = LoggerFactory.getLogger(WalWriter.class);

    /** Whether the last object ended in a failure. Written under this object's lock, read on every commit without it. */
    private volatile boolean refusing;
    /** Objects refused since writes were last stored; guarded by this. */
    private long refusedObjects;

    /** An object of {@code batches} batches could not be stored in {@code where}; its producers get {@code error}. */
    synchronized void refused(int batches, String where, String error, Throwable cause) {
        if (refusedObjects++ == 0) {
            refusing = true;
            LOG.error("Writes are refused: a WAL object of {} batches could not be stored in {}; its produce requests,"
                + " and those of later objects, get {} until one is stored again", batches, where, error, cause);
        } else {
            LOG.debug("A WAL object of {} batches could not be stored in {} either", batches, where, cause);
        }
    }

    /** An object was stored and committed. */
    void stored() {
        if (!refusing) {
            return;
        }
        synchronized (this) {
            if (refusing) {
                LOG.info("Writes resume: a WAL object was stored after {} were refused", refusedObjects);
            }
            refusing = false;
            refusedObjects = 0;
        }
    }
}
