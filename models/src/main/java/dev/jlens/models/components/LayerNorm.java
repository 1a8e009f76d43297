package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookPoint;
import dev.jlens.engine.hooks.HookPoints;

/**
 * TransformerLens's LayerNorm over the last axis: x − mean, divided by
 * {@code hook_scale} = √(mean((x − mean)²) + eps) [B, T, 1], then {@code hook_normalized} = that·w + b.
 * With w and b null it is TransformerLens's LayerNormPre (what {@code fold_ln} leaves).
 *
 * <p>A forward hook that replaces the scale changes the output. Backward passes dL/dscale through
 * {@code hook_scale}, where a backward hook may read or replace it; gradients otherwise flow
 * through hook points as through identities.
 */
public final class LayerNorm implements Norm {
    public final Parameter w, b;
    public final HookPoint hookScale, hookNormalized;
    private final int width;
    private final float eps;

    // saved for backward
    private Tensor x, mean, rstd;

    /** A norm's weight and bias, either of which a model with folded norms lacks. */
    public record Weights(Parameter w, Parameter b) {}

    public LayerNorm(HookPoints hooks, String prefix, Parameter w, Parameter b, int width, float eps) {
        this.w = w;
        this.b = b;
        this.width = width;
        this.eps = eps;
        this.hookScale = hooks.register(prefix + ".hook_scale");
        this.hookNormalized = hooks.register(prefix + ".hook_normalized");
    }

    /** Where this norm computes: with its weights, or (without them) with its input. */
    private Backend ops(Tensor input) {
        return Backend.of(w != null ? w.value() : input);
    }

    /** x [..., C] → normalized [..., C]. */
    @Override
    public Tensor forward(Tensor x, boolean keep) {
        Backend ops = ops(x);
        int rows = x.size() / width;
        Tensor mu = ops.empty(rows), rs = ops.empty(rows);
        ops.layerNormStatistics(x, mu, rs, rows, width, eps);
        throughScaleHook(ops, hookScale, rs, x);
        Tensor y = ops.empty(x.shape());
        ops.layerNormNormalize(x, y, value(w), value(b), mu, rs, rows, width);
        if (keep) {
            this.x = x;
            this.mean = mu;
            this.rstd = rs;
        }
        return hookNormalized.forward(y);
    }

    /** dL/dnormalized → dL/dx through dL/dscale (where the scale hook sees it); dw, db accumulate. */
    @Override
    public Tensor backward(Tensor dOut) {
        Tensor dy = hookNormalized.backward(dOut);
        Backend ops = ops(dy);
        int rows = dy.size() / width;
        Tensor dx = ops.empty(dy.shape()), dScale = ops.empty(shapeOfScale(dy));
        ops.layerNormBackwardToScale(dx, grad(w), grad(b), dScale, dy, x, value(w), mean, rstd, rows, width);
        ops.layerNormBackwardFromScale(dx, hookScale.backward(dScale), x, mean, rstd, rows, width);
        return dx;
    }

    @Override
    public void release() {
        x = mean = rstd = null;
    }

    /**
     * Shows the scale 1/rstd [..., 1] at {@code hook} and sets rstd to 1/(the hook's scale): one path
     * whether or not a hook replaced it, so the norm divides by the scale that came out of the hook.
     */
    static void throughScaleHook(Backend ops, HookPoint hook, Tensor rstd, Tensor input) {
        Tensor scale = ops.empty(shapeOfScale(input));
        ops.reciprocal(rstd, scale);
        ops.reciprocal(hook.forward(scale), rstd);
    }

    /** The shape of a norm's scale for {@code t}: its own, with the last axis 1. */
    static int[] shapeOfScale(Tensor t) {
        int[] shape = t.shape();
        shape[shape.length - 1] = 1;
        return shape;
    }

    private static Tensor value(Parameter p) {
        return p == null ? null : p.value();
    }

    /** The gradient to accumulate into, or null where there is no parameter or it takes no gradient. */
    static Tensor grad(Parameter p) {
        return p == null || !p.requiresGrad() ? null : p.grad();
    }
}
