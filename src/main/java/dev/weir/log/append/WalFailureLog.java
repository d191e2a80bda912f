package dev.weir.log.append;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says once that WAL objects cannot be stored, with the first failure's cause, and once that they can
 * again. While a disk is full every produce request fails the same way until room is freed; a line
 * (and a stack trace) per refused object would bury everything else in the log. An object whose
 * producers cannot be told that it failed for sure (see {@link WalWriter}) is said once per such spell
 * too. Thread-safe.
 */
final class WalFailureLog {
    /** The writer's log: these lines are about its objects. */
    private static final Logger LOG = LoggerFactory.getLogger(WalWriter.class);

    /** Whether the last object ended in a failure. Written under this object's lock, read on every commit without it. */
    private volatile boolean refusing;
    /** Objects refused, and of them those with an unknown outcome, since writes were last stored; guarded by this. */
    private long refusedObjects;
    private long unknownOutcomes;

    /** An object of {@code batches} batches could not be stored in {@code where}; its producers are refused. */
    synchronized void refused(int batches, String where, String failure, Throwable cause) {
        if (refusedObjects++ == 0) {
            refusing = true;
            LOG.error("Writes are refused: a WAL object of {} batches could not be stored in {}; its produce requests,"
                + " and those of later objects, are refused ({}) until one is stored again", batches, where, failure, cause);
        } else {
            LOG.debug("A WAL object of {} batches could not be stored in {} either", batches, where, cause);
        }
    }

    /**
     * A refused object could not be made void either, so a restart may still commit it: its producers
     * are told the outcome is unknown.
     */
    synchronized void outcomeUnknown(String where, Throwable cause) {
        if (unknownOutcomes++ == 0) {
            LOG.error("A WAL object in {} that failed could not be made void, so a restart may commit it: its produce"
                + " requests get REQUEST_TIMED_OUT, which tells the producer the outcome is unknown", where, cause);
        } else {
            LOG.debug("Making a WAL object in {} void failed too", where, cause);
        }
    }

    /** An object was stored and committed. */
    void stored() {
        if (!refusing) {
            return;
        }
        synchronized (this) {
            if (refusing) {
                LOG.info("Writes resume: a WAL object was stored after {} were refused{}", refusedObjects,
                    unknownOutcomes == 0 ? "" : " (" + unknownOutcomes + " of them with an unknown outcome)");
            }
            refusing = false;
            refusedObjects = 0;
            unknownOutcomes = 0;
        }
    }
}
