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
 * <p>A forward hook that replaces the scale changes the output; gradients flow through every hook
 * point as through an identity, and a backward hook on {@code hook_scale} sees and may replace
 * dL/dscale, so the backward then runs in the decomposed form that exposes it.
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
        float[] y = new float[x.size()], mu = new float[rows], rs = new float[rows];
        dev.jlens.kernels.LayerNorm.forward(x.data(), y, data(w), data(b), mu, rs, rows, width, eps);

        int[] scaleShape = x.shape();
        scaleShape[scaleShape.length - 1] = 1;
        float[] scaleValues = new float[rows];
        for (int r = 0; r < rows; r++) scaleValues[r] = 1f / rs[r];
        Tensor scale = Tensor.of(scaleValues, scaleShape);
        Tensor hooked = hookScale.forward(scale);
        if (hooked != scale) {
            for (int r = 0; r < rows; r++) rs[r] = 1f / hooked.data()[r];
            normalizeWithScale(x.data(), y, mu, rs, rows);
        }
        if (keep) {
            this.x = x;
            this.mean = mu;
            this.rstd = rs;
        }
        return hookNormalized.forward(Tensor.of(y, x.shape()));
    }

    private void normalizeWithScale(float[] xs, float[] y, float[] mu, float[] rs, int rows) {
        float[] wv = data(w), bv = data(b);
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < width; i++) {
                float v = (xs[r * width + i] - mu[r]) * rs[r];
                if (wv != null) v *= wv[i];
                if (bv != null) v += bv[i];
                y[r * width + i] = v;
            }
        }
    }

    /** dL/dnormalized → dL/dx; dw, db accumulate. */
    public Tensor backward(Tensor dOut) {
        Tensor dy = hookNormalized.backward(dOut);
        int rows = dy.size() / width;
        float[] dx = new float[dy.size()];
        if (!hookScale.hasBackwardHooks()) {
            dev.jlens.kernels.LayerNorm.backward(dx, grad(w), grad(b), dy.data(), x.data(), data(w), mean, rstd, rows, width);
        } else {
            backwardThroughScale(dy, dx, rows);
        }
        return Tensor.of(dx, dy.shape());
    }

    /** The same gradient in steps: through the normalisation, then dL/dscale, then through the mean. */
    private void backwardThroughScale(Tensor dyTensor, float[] dx, int rows) {
        float[] dy = dyTensor.data(), xs = x.data(), wv = data(w), dw = grad(w), db = grad(b);
        float[] dScale = new float[rows];
        for (int r = 0; r < rows; r++) {
            float scale = 1f / rstd[r];
            double sum = 0;
            for (int i = 0; i < width; i++) {
                int at = r * width + i;
                float centered = xs[at] - mean[r];
                float g = wv == null ? dy[at] : dy[at] * wv[i];
                if (dw != null) dw[i] += dy[at] * centered * rstd[r];
                if (db != null) db[i] += dy[at];
                dx[at] = g * rstd[r];
                sum += (double) g * centered;
            }
            dScale[r] = (float) (-sum / ((double) scale * scale));
        }
        int[] scaleShape = dyTensor.shape();
        scaleShape[scaleShape.length - 1] = 1;
        float[] dScaleHooked = hookScale.backward(Tensor.of(dScale, scaleShape)).data();
        for (int r = 0; r < rows; r++) {
            double meanDx = 0;
            for (int i = 0; i < width; i++) {
                int at = r * width + i;
                dx[at] += dScaleHooked[r] * (xs[at] - mean[r]) * rstd[r] / width;
                meanDx += dx[at];
            }
            float shift = (float) (meanDx / width);
            for (int i = 0; i < width; i++) dx[r * width + i] -= shift;
        }
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
