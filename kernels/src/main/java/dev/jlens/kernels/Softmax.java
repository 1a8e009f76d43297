package dev.jlens.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Row softmax with a causal mask, as attention uses it: only the first {@code valid} entries of a
 * row take part, the rest of the probability row is 0. The backward turns dP into dX through the
 * Jacobian of softmax: dX = P ⊙ (dP − Σ dP⊙P), zero where masked.
 */
public final class Softmax {
    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int L = Simd.LANES;
    private static final VectorMask<Float> ALL = S.maskAll(true);

    private Softmax() {}

    /** p[po..po+n) = softmax(x[xo..xo+valid)), then zeros; 1 ≤ valid ≤ n. In place when x == p and xo == po. */
    public static void forward(float[] x, int xo, float[] p, int po, int valid, int n) {
        float max = Simd.max(x, xo, valid);
        FloatVector vmax = FloatVector.broadcast(S, max);
        FloatVector acc = FloatVector.zero(S);
        // The last partial vector under a mask: every entry takes the same exp as every other.
        int bound = S.loopBound(valid);
        for (int i = 0; i < valid; i += L) {
            VectorMask<Float> m = i < bound ? ALL : S.indexInRange(i, valid);
            FloatVector e = VectorMath.exp(FloatVector.fromArray(S, x, xo + i, m).sub(vmax));
            e.intoArray(p, po + i, m);
            acc = acc.add(e, m);
        }
        float sum = Simd.sumLanes(acc);
        Simd.scale(p, po, 1f / sum, valid);
        java.util.Arrays.fill(p, po + valid, po + n, 0f);
    }

    /** dx[dxo..) += P ⊙ (dP − Σ dP⊙P) over the first {@code valid} entries (the rest have no gradient). */
    public static void backward(float[] p, int po, float[] dp, int dpo, float[] dx, int dxo, int valid) {
        float inner = Simd.dot(p, po, dp, dpo, valid);
        int i = 0, bound = S.loopBound(valid);
        FloatVector vin = FloatVector.broadcast(S, inner);
        for (; i < bound; i += L) {
            FloatVector pv = FloatVector.fromArray(S, p, po + i);
            FloatVector g = FloatVector.fromArray(S, dp, dpo + i).sub(vin);
            pv.fma(g, FloatVector.fromArray(S, dx, dxo + i)).intoArray(dx, dxo + i);
        }
        for (; i < valid; i++) dx[dxo + i] += p[po + i] * (dp[dpo + i] - inner);
    }

    /** log Σ exp(x[off .. off + n)), in double. */
    public static double logSumExp(float[] x, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(x[off + i] - max);
        return max + Math.log(sum);
    }

    public static void forwardReference(float[] x, int xo, float[] p, int po, int valid, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < valid; i++) max = Math.max(max, x[xo + i]);
        double sum = 0;
        double[] e = new double[valid];
        for (int i = 0; i < valid; i++) sum += e[i] = Math.exp(x[xo + i] - max);
        for (int i = 0; i < n; i++) p[po + i] = i < valid ? (float) (e[i] / sum) : 0f;
    }

    public static void backwardReference(float[] p, int po, float[] dp, int dpo, float[] dx, int dxo, int valid) {
        double inner = 0;
        for (int i = 0; i < valid; i++) inner += (double) p[po + i] * dp[dpo + i];
        for (int i = 0; i < valid; i++) dx[dxo + i] += (float) (p[po + i] * (dp[dpo + i] - inner));
    }
}
