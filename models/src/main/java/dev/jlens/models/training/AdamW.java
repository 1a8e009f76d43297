package dev.jlens.models.training;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.kernels.AdamWUpdate;
import java.util.ArrayList;
import java.util.List;

/**
 * AdamW (Loshchilov and Hutter) over a model's parameters: the moments live beside each weight (on
 * the GPU for a model there), and {@link AdamWUpdate} is the update.
 */
public final class AdamW {
    private final List<Parameter> params;
    private final List<Tensor> m = new ArrayList<>(), v = new ArrayList<>();
    private final float beta1, beta2, eps, weightDecay;
    private int step;

    public AdamW(List<Parameter> params, float beta1, float beta2, float eps, float weightDecay) {
        this.params = List.copyOf(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** One update of every parameter from its current gradient, at learning rate lr. */
    public void step(float lr) {
        step++;
        var s = new AdamWUpdate.Step(beta1, beta2, (float) (1 - Math.pow(beta1, step)), (float) (1 - Math.pow(beta2, step)),
                eps, weightDecay, lr);
        for (int i = 0; i < params.size(); i++) {
            Tensor w = params.get(i).value();
            Backend ops = Backend.of(w);
            if (m.size() <= i) {
                m.add(ops.zeros(w.shape()));
                v.add(ops.zeros(w.shape()));
            }
            ops.adamw(w, params.get(i).grad(), m.get(i), v.get(i), s);
        }
    }

    public int steps() {
        return step;
    }
}
