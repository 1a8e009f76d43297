package dev.jlens.kernels;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The one worker pool of jlens. Every parallel loop goes through {@link #forEach}: work is split
 * over independent output blocks (rows, column panels, (token, head) pairs), never inside a dot
 * product. The pool is the calling thread and {@code threads − 1} helpers; {@code threads} is the
 * number of available cores, or the {@code jlens.threads} property.
 *
 * <p>Decoding a token runs a hundred or more parallel loops of some tens of microseconds each. A
 * helper that parks after each would take about as long to wake as the loop takes, so helpers
 * spin for a while ({@link #SPIN_NANOS}) after their last loop before they park; the caller never
 * waits for a helper that has not started on the loop.
 */
public final class Parallel {
    private static final int THREADS = Math.max(1,
            Integer.getInteger("jlens.threads", Runtime.getRuntime().availableProcessors()));
    /** How long an idle helper looks for the next loop before it parks. */
    private static final long SPIN_NANOS = 200_000;

    /** One loop at a time is spread over the helpers; a loop started meanwhile (nested, or another thread's) runs on its caller. */
    private static final AtomicBoolean BUSY = new AtomicBoolean();
    private static volatile Loop current;
    private static final Helper[] HELPERS = new Helper[THREADS - 1];

    static {
        for (int h = 0; h < HELPERS.length; h++) {
            HELPERS[h] = new Helper(h);
            HELPERS[h].start();
        }
    }

    private Parallel() {}

    /** Number of threads that {@link #forEach} spreads work over. */
    public static int threads() {
        return THREADS;
    }

    /**
     * Runs {@code body.accept(i)} for every {@code i} in {@code [0, count)}, spread over the pool.
     * Indices are handed out one at a time from a shared counter, so uneven tasks balance
     * themselves; the calling thread works too. A call from inside a loop's body runs serially,
     * which keeps nested parallel loops from waiting on each other.
     */
    public static void forEach(int count, IntConsumer body) {
        if (count <= 0) return;
        if (count == 1 || THREADS == 1 || Thread.currentThread() instanceof Helper || !BUSY.compareAndSet(false, true)) {
            for (int i = 0; i < count; i++) body.accept(i);
            return;
        }
        try {
            Loop loop = new Loop(body, count);
            current = loop;
            for (Helper helper : HELPERS) if (helper.parked) LockSupport.unpark(helper);
            loop.drain();
            loop.awaitHelpers();
            current = null;
            loop.rethrow();
        } finally {
            BUSY.set(false);
        }
    }

    /** One call of {@link #forEach}: its indices, how many helpers are inside it, and the first failure. */
    private static final class Loop {
        private final IntConsumer body;
        private final int count;
        private final AtomicInteger next = new AtomicInteger(), inside = new AtomicInteger();
        private volatile Throwable failure;

        Loop(IntConsumer body, int count) {
            this.body = body;
            this.count = count;
        }

        void drain() {
            try {
                for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) body.accept(i);
            } catch (Throwable t) {
                if (failure == null) failure = t;
                next.set(count); // the others stop taking indices
            }
        }

        /**
         * A helper counts itself in before taking an index. Once the caller has found none left, a
         * helper counted in may still be running one, and one counting in later finds none: so the
         * loop is over when no helper is inside.
         */
        void help() {
            inside.incrementAndGet();
            try {
                drain();
            } finally {
                inside.decrementAndGet();
            }
        }

        void awaitHelpers() {
            while (inside.get() > 0) Thread.onSpinWait();
        }

        void rethrow() {
            Throwable t = failure;
            if (t instanceof RuntimeException re) throw re;
            if (t instanceof Error e) throw e;
            if (t != null) throw new RuntimeException(t);
        }
    }

    private static final class Helper extends Thread {
        volatile boolean parked;

        Helper(int index) {
            super("jlens-worker-" + index);
            setDaemon(true);
        }

        @Override
        public void run() {
            Loop last = null;
            while (true) {
                Loop loop = awaitNewLoop(last);
                loop.help();
                last = loop;
            }
        }

        /** The first loop other than {@code last}: spinning for a while, then parked until a caller wakes it. */
        private Loop awaitNewLoop(Loop last) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (true) {
                Loop loop = current;
                if (loop != null && loop != last) return loop;
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                    continue;
                }
                parked = true;
                loop = current;
                if (loop == null || loop == last) LockSupport.park(this);
                parked = false;
                spinUntil = System.nanoTime() + SPIN_NANOS;
            }
        }
    }
}
