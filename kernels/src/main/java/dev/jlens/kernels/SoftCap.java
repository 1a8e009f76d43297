package dev.jlens.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Gemma 2's soft cap, elementwise: y = cap·tanh(x / cap), which squashes scores and logits into
 * (−cap, cap) while leaving small values almost as they were. Masked attention scores are −∞ and
 * stay −∞ (tanh would make them −cap, a finite score a masked key must not have).
 * Backward from the output: dx = dy·(1 − (y / cap)²), which is 0 where y is −∞.
 *
 * <p>Shapes: x, y, dy, dx [N]; y may be x (in place).
 */
public final class SoftCap {
    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int L = Simd.LANES;
    private static final int CHUNK = 8192;
    private static final VectorMask<Float> ALL = S.maskAll(true);

    private SoftCap() {}

    // As in Gelu: every element goes through the vector code (the tail under a mask), so a value does
    // not depend on the length of the array around it.

    public static void forward(float[] x, float[] y, int n, float cap) {
        float inverse = 1 / cap;
        Parallel.forEach(Gemm.ceilDiv(n, CHUNK), t -> {
            int from = t * CHUNK, to = Math.min(n, from + CHUNK), bound = from + S.loopBound(to - from);
            for (int i = from; i < to; i += L) {
                VectorMask<Float> m = i < bound ? ALL : S.indexInRange(i, to);
                FloatVector v = FloatVector.fromArray(S, x, i, m);
                FloatVector capped = v.mul(inverse).lanewise(VectorOperators.TANH).mul(cap);
                capped.blend(v, v.eq(Float.NEGATIVE_INFINITY)).intoArray(y, i, m);
            }
        });
    }

    /** dx = (1 − (y / cap)²)·dy, from the forward's output y (dx may be dy). */
    public static void backward(float[] y, float[] dy, float[] dx, int n, float cap) {
        float inverse = 1 / cap;
        Parallel.forEach(Gemm.ceilDiv(n, CHUNK), t -> {
            int from = t * CHUNK, to = Math.min(n, from + CHUNK), bound = from + S.loopBound(to - from);
            for (int i = from; i < to; i += L) {
                VectorMask<Float> m = i < bound ? ALL : S.indexInRange(i, to);
                // −∞ / cap clamps to −1, so a masked score's slope is 0 rather than −∞ (or NaN with dy 0).
                FloatVector ratio = FloatVector.fromArray(S, y, i, m).mul(inverse).max(-1f);
                FloatVector slope = ratio.mul(ratio).neg().add(1f);
                slope.mul(FloatVector.fromArray(S, dy, i, m)).intoArray(dx, i, m);
            }
        });
    }

    public static void forwardReference(float[] x, float[] y, int n, float cap) {
        for (int i = 0; i < n; i++) y[i] = x[i] == Float.NEGATIVE_INFINITY ? x[i] : (float) (cap * Math.tanh((double) x[i] / cap));
    }

    public static void backwardReference(float[] y, float[] dy, float[] dx, int n, float cap) {
        for (int i = 0; i < n; i++) {
            double ratio = y[i] == Float.NEGATIVE_INFINITY ? -1 : (double) y[i] / cap;
            dx[i] = (float) ((1 - ratio * ratio) * dy[i]);
        }
    }
}
