package dev.jlens.models.components;

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
public final class LayerNorm {
    public final Parameter w, b;
    public final HookPoint hookScale, hookNormalized;
    private final int width;
    private final float eps;

    // saved for backward
    private Tensor x;
    private float[] mean, rstd;

    public LayerNorm(HookPoints hooks, String prefix, Parameter w, Parameter b, int width, float eps) {
        this.w = w;
        this.b = b;
        this.width = width;
        this.eps = eps;
        this.hookScale = hooks.register(prefix + ".hook_scale");
        this.hookNormalized = hooks.register(prefix + ".hook_normalized");
    }

    /** x [..., C] → normalized [..., C]. */
    public Tensor forward(Tensor x, boolean keep) {
        int rows = x.size() / width;
        float[] mu = new float[rows], rs = new float[rows];
        dev.jlens.kernels.LayerNorm.statistics(x.data(), mu, rs, rows, width, eps);
        int[] scaleShape = x.shape();
        scaleShape[scaleShape.length - 1] = 1;
        float[] scale = new float[rows];
        for (int r = 0; r < rows; r++) scale[r] = 1f / rs[r];
        // One path whether or not a hook replaced the scale: normalise by the scale that came out of the hook.
        float[] hooked = hookScale.forward(Tensor.of(scale, scaleShape)).data();
        for (int r = 0; r < rows; r++) rs[r] = 1f / hooked[r];
        float[] y = new float[x.size()];
        dev.jlens.kernels.LayerNorm.normalize(x.data(), y, data(w), data(b), mu, rs, rows, width);
        if (keep) {
            this.x = x;
            this.mean = mu;
            this.rstd = rs;
        }
        return hookNormalized.forward(Tensor.of(y, x.shape()));
    }

    /** dL/dnormalized → dL/dx through dL/dscale (where the scale hook sees it); dw, db accumulate. */
    public Tensor backward(Tensor dOut) {
        Tensor dy = hookNormalized.backward(dOut);
        int rows = dy.size() / width;
        float[] dx = new float[dy.size()], dScale = new float[rows];
        dev.jlens.kernels.LayerNorm.backwardToScale(dx, grad(w), grad(b), dScale, dy.data(), x.data(), data(w), mean, rstd, rows, width);
        int[] scaleShape = dy.shape();
        scaleShape[scaleShape.length - 1] = 1;
        float[] dScaleHooked = hookScale.backward(Tensor.of(dScale, scaleShape)).data();
        dev.jlens.kernels.LayerNorm.backwardFromScale(dx, dScaleHooked, x.data(), mean, rstd, rows, width);
        return Tensor.of(dx, dy.shape());
    }

    public void release() {
        x = null;
        mean = rstd = null;
    }

    private static float[] data(Parameter p) {
        return p == null ? null : p.value().data();
    }

    private static float[] grad(Parameter p) {
        return p == null ? null : p.grad().data();
    }
}
