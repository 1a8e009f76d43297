package dev.jlens.models.training;

import dev.jlens.engine.Parameter;
import dev.jlens.kernels.Parallel;
import dev.jlens.kernels.Simd;
import java.util.ArrayList;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * AdamW (Loshchilov and Hutter): Adam's moment estimates with bias correction, and weight decay
 * applied to the weights directly rather than through the gradient:
 * p ← p − lr·(m̂ / (√v̂ + eps) + weightDecay·p).
 */
public final class AdamW {
    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int CHUNK = 1 << 16;

    private final List<Parameter> params;
    private final List<float[]> m = new ArrayList<>(), v = new ArrayList<>();
    private final float beta1, beta2, eps, weightDecay;
    private int step;

    public AdamW(List<Parameter> params, float beta1, float beta2, float eps, float weightDecay) {
        this.params = List.copyOf(params);
        for (Parameter p : params) {
            m.add(new float[p.value().size()]);
            v.add(new float[p.value().size()]);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** One update of every parameter from its current gradient, at learning rate lr. */
    public void step(float lr) {
        step++;
        float correction1 = (float) (1 - Math.pow(beta1, step)), correction2 = (float) (1 - Math.pow(beta2, step));
        for (int i = 0; i < params.size(); i++) {
            float[] w = params.get(i).value().data(), g = params.get(i).grad().data(), mi = m.get(i), vi = v.get(i);
            Parallel.forEach((w.length + CHUNK - 1) / CHUNK, c -> {
                int from = c * CHUNK, to = Math.min(w.length, from + CHUNK);
                update(w, g, mi, vi, from, to, lr, correction1, correction2);
            });
        }
    }

    private void update(float[] w, float[] g, float[] m, float[] v, int from, int to, float lr, float c1, float c2) {
        int i = from, bound = from + S.loopBound(to - from);
        // m̂/(√v̂ + eps) = (m/c1) / (√(v/c2) + eps): the corrections become multiplications.
        float mScale = 1 / c1, vScale = 1 / c2, decay = 1 - lr * weightDecay;
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
            float mHat = m[i] / c1, vHat = v[i] / c2;
            w[i] -= lr * (mHat / ((float) Math.sqrt(vHat) + eps) + weightDecay * w[i]);
        }
    }

    public int steps() {
        return step;
    }
}
