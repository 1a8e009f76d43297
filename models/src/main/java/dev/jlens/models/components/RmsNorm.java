package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookPoint;
import dev.jlens.engine.hooks.HookPoints;

/**
 * TransformerLens's RMSNorm over the last axis: {@code hook_scale} = √(mean(x²) + eps) [..., 1],
 * {@code hook_normalized} = x / scale, then out = normalized·w. Unlike {@link LayerNorm}, the
 * normalized hook sees the values before the weight, as TransformerLens has it. With w null it is
 * RMSNormPre.
 *
 * <p>It runs on the layer norm's backend calls with a mean of zero, plus the two steps that differ
 * (the statistic, and the scale's backward without a mean to subtract). A forward hook that replaces
 * the scale changes the output; backward passes dL/dscale through {@code hook_scale}.
 */
public final class RmsNorm implements Norm {
    public final Parameter w;
    public final HookPoint hookScale, hookNormalized;
    private final int width;
    private final float eps;

    // saved for backward
    private Tensor x, rstd, normalized, zeroMean;

    public RmsNorm(HookPoints hooks, String prefix, Parameter w, int width, float eps) {
        this.w = w;
        this.width = width;
        this.eps = eps;
        this.hookScale = hooks.register(prefix + ".hook_scale");
        this.hookNormalized = hooks.register(prefix + ".hook_normalized");
    }

    private Backend ops(Tensor input) {
        return Backend.of(w != null ? w.value() : input);
    }

    @Override
    public Tensor forward(Tensor x, boolean keep) {
        Backend ops = ops(x);
        int rows = x.size() / width;
        Tensor rs = ops.empty(rows), zeros = ops.zeros(rows);
        ops.rmsNormStatistics(x, rs, rows, width, eps);
        LayerNorm.throughScaleHook(ops, hookScale, rs, x);
        Tensor y = ops.empty(x.shape());
        ops.layerNormNormalize(x, y, null, null, zeros, rs, rows, width);
        Tensor normalizedHooked = hookNormalized.forward(y);
        Tensor out = normalizedHooked;
        if (w != null) {
            out = ops.empty(x.shape());
            ops.multiplyRows(normalizedHooked, w.value(), out, rows, width);
        }
        if (keep) {
            this.x = x;
            this.rstd = rs;
            this.zeroMean = zeros;
            this.normalized = normalizedHooked;
        }
        return out;
    }

    /** dw += Σ_rows dOut ⊙ normalized; dnormalized = dOut ⊙ w; then through x / scale to dx. */
    @Override
    public Tensor backward(Tensor dOut) {
        Backend ops = ops(dOut);
        int rows = dOut.size() / width;
        Tensor dNormalized = dOut;
        if (w != null) {
            Tensor product = ops.empty(dOut.shape());
            if (w.requiresGrad()) {
                ops.multiply(dOut, normalized, product);
                ops.sumRows(Matrix.of(product, rows, width), w.grad());
            }
            dNormalized = ops.empty(dOut.shape());
            ops.multiplyRows(dOut, w.value(), dNormalized, rows, width);
        }
        Tensor dy = hookNormalized.backward(dNormalized);
        Tensor dx = ops.empty(dy.shape()), dScale = ops.empty(LayerNorm.shapeOfScale(dy));
        ops.layerNormBackwardToScale(dx, null, null, dScale, dy, x, null, zeroMean, rstd, rows, width);
        ops.rmsNormBackwardFromScale(dx, hookScale.backward(dScale), x, rstd, rows, width);
        return dx;
    }

    @Override
    public void release() {
        x = rstd = normalized = zeroMean = null;
    }
}
