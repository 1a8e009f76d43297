package dev.jlens.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One AdamW update of a weight array from its gradient (Loshchilov and Hutter): Adam's moment
 * estimates with bias correction, and weight decay applied to the weights directly,
 * w ← w − lr·(m̂ / (√v̂ + eps) + weightDecay·w), with m̂ = m/c1 and v̂ = v/c2.
 *
 * <p>Shapes: w, g, m, v [N].
 */
public final class AdamWUpdate {
    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int CHUNK = 1 << 16;

    /** The update's constants: moment decays, bias corrections c1 = 1 − β1^t, c2 = 1 − β2^t, eps, weight decay, lr. */
    public record Step(float beta1, float beta2, float c1, float c2, float eps, float weightDecay, float lr) {}

    private AdamWUpdate() {}

    public static void apply(float[] w, float[] g, float[] m, float[] v, Step s) {
        Parallel.forEach((w.length + CHUNK - 1) / CHUNK, c -> {
            int from = c * CHUNK, to = Math.min(w.length, from + CHUNK);
            update(w, g, m, v, from, to, s);
        });
    }

    private static void update(float[] w, float[] g, float[] m, float[] v, int from, int to, Step s) {
        int i = from, bound = from + S.loopBound(to - from);
        float beta1 = s.beta1(), beta2 = s.beta2(), lr = s.lr(), eps = s.eps();
        // m̂/(√v̂ + eps) = (m/c1) / (√(v/c2) + eps): the corrections become multiplications.
        float mScale = 1 / s.c1(), vScale = 1 / s.c2(), decay = 1 - lr * s.weightDecay();
        for (; i < bound; i += S.length()) {
            FloatVector gv = FloatVector.fromArray(S, g, i);
            FloatVector mv = FloatVector.fromArray(S, m, i).mul(beta1).add(gv.mul(1 - beta1));
            FloatVector vv = FloatVector.fromArray(S, v, i).mul(beta2).add(gv.mul(gv).mul(1 - beta2));
            mv.intoArray(m, i);
            vv.intoArray(v, i);
            FloatVector adam = mv.mul(mScale).div(vv.mul(vScale).sqrt().add(eps));
            FloatVector.fromArray(S, w, i).mul(decay).sub(adam.mul(lr)).intoArray(w, i);
        }
        for (; i < to; i++) {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i];
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
            float mHat = m[i] / s.c1(), vHat = v[i] / s.c2();
            w[i] -= lr * (mHat / ((float) Math.sqrt(vHat) + eps) + s.weightDecay() * w[i]);
        }
    }
}
