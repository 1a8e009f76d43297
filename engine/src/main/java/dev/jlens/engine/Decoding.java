package dev.jlens.engine;

/**
 * While open on a thread, its products are those of decoding: a token or a few per sequence, each
 * reading every weight once. There, float32 products of a few rows take {@link dev.jlens.kernels.Gemv}
 * (nothing packed) and attention projects q, k and v head by head. Everywhere else every float32
 * product takes the packed kernel, whose value for a row never depends on the other rows computed
 * with it: a batched sweep equals the sweep one prompt at a time bit for bit, and the experiments'
 * tables stay what they are.
 */
public final class Decoding implements AutoCloseable {
    private static final ThreadLocal<Boolean> ACTIVE = ThreadLocal.withInitial(() -> false);
    private final boolean before;

    private Decoding() {
        before = ACTIVE.get();
        ACTIVE.set(true);
    }

    /** Decoding on this thread until {@link #close}. */
    public static Decoding begin() {
        return new Decoding();
    }

    /** Whether this thread is decoding. */
    public static boolean active() {
        return ACTIVE.get();
    }

    @Override
    public void close() {
        ACTIVE.set(before);
    }
}
