package dev.jlens.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The one worker pool of jlens. Every parallel loop goes through {@link #forEach}: work is split
 * over independent output blocks (rows, column panels, (token, head) pairs), never inside a dot
 * product. The pool size is the number of available cores, or the {@code jlens.threads} property.
 */
public final class Parallel {
    private static final int THREADS = Math.max(1,
            Integer.getInteger("jlens.threads", Runtime.getRuntime().availableProcessors()));

    private static final ForkJoinPool POOL = new ForkJoinPool(THREADS, pool -> {
        var thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        thread.setDaemon(true);
        thread.setName("jlens-worker-" + thread.getPoolIndex());
        return thread;
    }, null, false);

    private Parallel() {}

    /** Number of threads that {@link #forEach} spreads work over. */
    public static int threads() {
        return THREADS;
    }

    /**
     * Runs {@code body.accept(i)} for every {@code i} in {@code [0, count)}, spread over the pool.
     * Indices are handed out one at a time from a shared counter, so uneven tasks balance
     * themselves; the calling thread works too. A call from inside a worker runs serially, which
     * keeps nested parallel loops from waiting on each other.
     */
    public static void forEach(int count, IntConsumer body) {
        if (count <= 0) return;
        if (count == 1 || THREADS == 1 || ForkJoinTask.inForkJoinPool()) {
            for (int i = 0; i < count; i++) body.accept(i);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable drain = () -> {
            for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) body.accept(i);
        };
        int helpers = Math.min(THREADS, count) - 1;
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[helpers];
        for (int h = 0; h < helpers; h++) tasks[h] = POOL.submit(drain);
        Throwable failure = null;
        try {
            drain.run();
        } catch (Throwable t) {
            failure = t;
        }
        for (ForkJoinTask<?> task : tasks) {
            try {
                task.join();
            } catch (Throwable t) {
                if (failure == null) failure = t;
            }
        }
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error e) throw e;
        if (failure != null) throw new RuntimeException(failure);
    }
}
