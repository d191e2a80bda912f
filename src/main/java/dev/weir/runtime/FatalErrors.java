package dev.weir.runtime;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the broker does when the JVM itself fails. A {@link VirtualMachineError} (OutOfMemoryError,
 * including "Direct buffer memory" and Netty's OutOfDirectMemoryError; StackOverflowError;
 * InternalError) may strike any thread at any allocation: the event loops and coordinator threads it
 * kills are not replaced and the structures it interrupted cannot be trusted. A broker in that state
 * accepts connections and answers nothing, so the process ends instead, with {@link #EXIT_STATUS},
 * and whatever supervises it starts it again. It halts rather than exits: shutdown hooks need memory,
 * threads and locks that a failed JVM may no longer give them, and the data is safe without them
 * (an acknowledged batch is already durable).
 *
 * <p>Thread-safe: every method may be called from any thread.
 */
public final class FatalErrors {
    /**
     * The exit status of a halted broker: the one the JVM itself uses under
     * {@code -XX:+ExitOnOutOfMemoryError}, so a supervisor sees both paths alike.
     */
    public static final int EXIT_STATUS = 3;
    /** Causes are followed this deep at most, so that a cycle of causes cannot keep the check going. */
    private static final int MAX_CAUSE_DEPTH = 32;
    private static final Logger LOG = LoggerFactory.getLogger(FatalErrors.class);

    private FatalErrors() {
    }

    /** Whether the failure is, or was caused by, an error of the JVM itself. */
    public static boolean isFatal(Throwable failure) {
        Throwable cause = failure;
        for (int depth = 0; cause != null && depth < MAX_CAUSE_DEPTH; depth++) {
            if (cause instanceof VirtualMachineError) {
                return true;
            }
            cause = cause.getCause();
        }
        return false;
    }

    /** Halts the process if the failure is fatal; otherwise returns, and the caller handles it as before. */
    public static void haltIfFatal(Throwable failure) {
        if (isFatal(failure)) {
            halt(Thread.currentThread(), failure);
        }
    }

    /**
     * Makes a fatal error that ends a thread halt the process too. Other uncaught exceptions are logged,
     * which is what the JVM would print for them. For the broker's process only: a host application
     * that embeds a broker keeps its own handler.
     */
    public static void haltOnUncaughtFatalErrors() {
        Thread.setDefaultUncaughtExceptionHandler((thread, failure) -> {
            if (isFatal(failure)) {
                halt(thread, failure);
            }
            LOG.error("Uncaught exception in thread {}", thread.getName(), failure);
        });
    }

    /**
     * Makes any failure that ends the thread halt the process: for threads the broker cannot do without
     * (the WAL writer's sealing and committing threads), whose death would leave a broker that accepts
     * produce requests and never answers them. A supervisor restarting it is the better outcome.
     */
    public static void haltIfItDies(Thread thread) {
        thread.setUncaughtExceptionHandler((dead, failure) -> {
            try {
                LOG.error("Thread {}, which the broker cannot do without, failed", dead.getName(), failure);
            } finally {
                halt(dead, failure);
            }
        });
    }

    private static void halt(Thread thread, Throwable failure) {
        try {
            // One line, no stack trace: the heap may have no room for more, and the cause is in the message.
            LOG.error("Fatal error in thread {}: {}; halting with exit status {} so that the broker is restarted",
                thread.getName(), failure, EXIT_STATUS);
        } catch (Throwable loggingFailed) {
            // Nothing more can be said; halting matters more than the line.
        } finally {
            Runtime.getRuntime().halt(EXIT_STATUS);
        }
    }
}
