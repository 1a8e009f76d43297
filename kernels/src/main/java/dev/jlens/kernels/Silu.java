package dev.jlens.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * SiLU (swish), the gate of Llama-family MLPs, elementwise: y = x·σ(x) = x / (1 + e^(−x)).
 * Backward: dy/dx = σ(x)·(1 + x·(1 − σ(x))), with 1 − σ(x) = e^(−x)·σ(x).
 *
 * <p>Shapes: x, y, dy, dx [N].
 */
public final class Silu {
    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int L = Simd.LANES;
    private static final int CHUNK = 8192;
    private static final VectorMask<Float> ALL = S.maskAll(true);

    private Silu() {}

    // As in Gelu: every element goes through the vector code (the tail under a mask), so a value does
    // not depend on the length of the array around it.

    public static void forward(float[] x, float[] y, int n) {
        Parallel.forEach(Gemm.ceilDiv(n, CHUNK), t -> {
            int from = t * CHUNK, to = Math.min(n, from + CHUNK), bound = from + S.loopBound(to - from);
            for (int i = from; i < to; i += L) {
                VectorMask<Float> m = i < bound ? ALL : S.indexInRange(i, to);
                FloatVector v = FloatVector.fromArray(S, x, i, m);
                v.div(VectorMath.exp(v.neg()).add(1f)).intoArray(y, i, m);
            }
        });
    }

    /** dx += silu'(x)·dy. */
    public static void backward(float[] x, float[] dy, float[] dx, int n) {
        Parallel.forEach(Gemm.ceilDiv(n, CHUNK), t -> {
            int from = t * CHUNK, to = Math.min(n, from + CHUNK), bound = from + S.loopBound(to - from);
            for (int i = from; i < to; i += L) {
                VectorMask<Float> m = i < bound ? ALL : S.indexInRange(i, to);
                FloatVector v = FloatVector.fromArray(S, x, i, m);
                FloatVector e = VectorMath.exp(v.neg());
                FloatVector sigma = FloatVector.broadcast(S, 1f).div(e.add(1f));
                FloatVector grad = v.mul(e.mul(sigma)).add(1f).mul(sigma);
                grad.fma(FloatVector.fromArray(S, dy, i, m), FloatVector.fromArray(S, dx, i, m)).intoArray(dx, i, m);
            }
        });
    }

    public static void forwardReference(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) y[i] = (float) (x[i] / (1 + Math.exp(-(double) x[i])));
    }

    public static void backwardReference(float[] x, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i++) {
            double sigma = 1 / (1 + Math.exp(-(double) x[i]));
            dx[i] = (float) (dx[i] + dy[i] * sigma * (1 + x[i] * (1 - sigma)));
        }
    }
}
