package dev.jlens.analysis;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.ForwardHook;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;

/**
 * Ablation hooks, as notebooks 001 and 004 use them: overwrite some neurons, a head or some positions
 * of an activation with zeros (zero ablation) or with their mean over a dataset (mean ablation), and
 * measure what that does to the loss.
 */
public final class Ablation {
    private Ablation() {}

    /** The mean next-token loss without and with an ablation. */
    public record LossChange(double original, double ablated) {
        public double increase() {
            return ablated - original;
        }

        public double relativeIncrease() {
            return (ablated - original) / original;
        }
    }

    /** Sets entries {@code indices} of the last axis to {@code values} (zeros for zero ablation) at every position. */
    public static ForwardHook neurons(int[] indices, float[] values) {
        if (indices.length != values.length) throw new IllegalArgumentException(indices.length + " neurons but " + values.length + " values");
        return (act, point) -> {
            int width = act.dim(-1);
            float[] out = act.data().clone();
            for (int row = 0; row < out.length / width; row++) {
                for (int i = 0; i < indices.length; i++) out[row * width + indices[i]] = values[i];
            }
            return Tensor.of(out, act.shape());
        };
    }

    /** Sets head {@code head} of hook_z or hook_v ([batch, pos, head, d_head]) to {@code value} [d_head] at every position. */
    public static ForwardHook head(int head, float[] value) {
        return (act, point) -> {
            if (act.rank() != 4 || act.dim(3) != value.length) {
                throw new JlensException("head ablation needs a [batch, pos, head, d_head] activation with d_head " + value.length
                        + ", and " + point.name() + " is " + act.shapeString() + ".");
            }
            int heads = act.dim(2), dHead = act.dim(3);
            float[] out = act.data().clone();
            for (int row = 0; row < act.dim(0) * act.dim(1); row++) System.arraycopy(value, 0, out, (row * heads + head) * dHead, dHead);
            return Tensor.of(out, act.shape());
        };
    }

    /** Sets the whole activation at {@code positions} ([batch, pos, ...]) to {@code value} (one row's width). */
    public static ForwardHook positions(int[] positions, float[] value) {
        return (act, point) -> {
            int pos = act.dim(1), width = act.size() / (act.dim(0) * pos);
            if (value.length != width) throw new IllegalArgumentException("value of width " + value.length + " for rows of " + width);
            float[] out = act.data().clone();
            for (int b = 0; b < act.dim(0); b++) for (int p : positions) System.arraycopy(value, 0, out, (b * pos + p) * width, width);
            return Tensor.of(out, act.shape());
        };
    }

    /** The mean of an activation [batch, pos, ...] over every real (unpadded) position: one row's width. */
    public static float[] meanOverPositions(Tensor act, Tokens tokens) {
        int pos = act.dim(1), width = act.size() / (act.dim(0) * pos);
        double[] sum = new double[width];
        long count = 0;
        for (int b = 0; b < act.dim(0); b++) {
            for (int p = tokens.start(b); p < tokens.end(b); p++) {
                for (int i = 0; i < width; i++) sum[i] += act.data()[(b * pos + p) * width + i];
                count++;
            }
        }
        float[] mean = new float[width];
        for (int i = 0; i < width; i++) mean[i] = (float) (sum[i] / Math.max(1, count));
        return mean;
    }

    /** The mean next-token loss of {@code tokens}, then the same with {@code hook} on {@code hookName}. */
    public static LossChange lossChange(HookedTransformer model, Tokens tokens, String hookName, ForwardHook hook) {
        return new LossChange(model.loss(tokens), lossWith(model, tokens, hookName, hook));
    }

    /** The mean next-token loss of {@code tokens} with {@code hook} on {@code hookName}: the ablated half of {@link #lossChange}. */
    public static double lossWith(HookedTransformer model, Tokens tokens, String hookName, ForwardHook hook) {
        try (HookScope scope = model.hookPoints().scope()) {
            scope.forward(hookName, hook);
            return model.loss(tokens);
        }
    }
}
