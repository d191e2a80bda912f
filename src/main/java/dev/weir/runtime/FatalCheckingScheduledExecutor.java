package dev.weir.runtime;

import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;

/**
 * A scheduled executor that halts the process when one of its tasks fails with a fatal error. A plain
 * one keeps a task's failure in the task's future, where nobody looks for a timer's, so an
 * OutOfMemoryError in a session expiry or a cleanup pass would pass unseen and leave its work undone
 * for good. Cancelled tasks are removed at once. Thread-safe, as any executor.
 */
public final class FatalCheckingScheduledExecutor extends ScheduledThreadPoolExecutor {
    public FatalCheckingScheduledExecutor(int threads, ThreadFactory threadFactory) {
        super(threads, threadFactory);
        // Timers that are cancelled and set again on every heartbeat (sessions) or every answer (fetch waits)
        // leave the queue at once, rather than each staying there until its delay (up to 30 minutes) runs out.
        setRemoveOnCancelPolicy(true);
    }

    @Override
    protected void afterExecute(Runnable task, Throwable thrown) {
        super.afterExecute(task, thrown);
        Throwable failure = thrown;
        // A periodic task that ran well is not done, so get() below never waits.
        if (failure == null && task instanceof Future<?> future && future.isDone()) {
            try {
                future.get();
            } catch (ExecutionException e) {
                failure = e.getCause();
            } catch (CancellationException e) {
                // Cancelled: it did not fail.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (failure != null) {
            FatalErrors.haltIfFatal(failure);
        }
    }
}
