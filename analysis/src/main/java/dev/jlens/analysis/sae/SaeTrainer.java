package dev.jlens.analysis.sae;

import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.training.AdamW;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Trains an SAE on a model's activations at one hook with AdamW and the SAE's hand-written
 * backward, as SAELens trains its two classic architectures:
 * <ul>
 *   <li>TopK: loss = ‖x − x̂‖² + the auxiliary loss for dead features (the k_aux = d_in/2 largest
 *   pre-activations among features dead for the last {@code deadWindow} batches reconstruct the
 *   residual x − x̂, scaled by min(dead/k_aux, 1)), as SAELens's TopK SAE (after Gao et al.);</li>
 *   <li>standard (ReLU): loss = ‖x − x̂‖² + λ·Σ acts, with the decoder's rows (each feature's
 *   direction) held at unit norm: the gradient along each row removed before the step and the
 *   rows renormalised after, as SAELens's normalize_sae_decoder; λ warms up linearly.</li>
 * </ul>
 * Squared errors sum over d_in and average over the batch, as SAELens's mse_loss. Inputs may be
 * scaled to an average norm of sqrt(d_in) while training (expected_average_only_in); the scale is
 * folded into the weights at the end, so the SAE written reads the model's activations as they are.
 */
public final class SaeTrainer {
    /** What to train. */
    public record Options(SaeConfig cfg, long tokens, int batchRows, double learningRate, double l1Coefficient, int l1WarmUpSteps,
                          int deadWindow, boolean normalizeInputs, long seed) {
        public Options {
            if (tokens <= 0 || batchRows <= 0 || learningRate <= 0) throw new IllegalArgumentException("tokens, batch rows and learning rate must be positive");
        }

        public long steps() {
            return Math.max(1, tokens / batchRows);
        }

        /**
         * The schedule the commands use: λ warms up over the first twentieth of the steps, and a
         * feature is dead after 1000 steps without firing (SAELens's window) or a twentieth of a
         * shorter run.
         */
        public static Options of(SaeConfig cfg, long tokens, int batchRows, double learningRate, double l1Coefficient, boolean normalizeInputs, long seed) {
            long steps = Math.max(1, tokens / batchRows);
            return new Options(cfg, tokens, batchRows, learningRate, l1Coefficient, (int) Math.max(1, steps / 20),
                    (int) Math.max(10, Math.min(1000, steps / 20)), normalizeInputs, seed);
        }
    }

    /** Called after every step with its losses and the fraction of features dead now. */
    public interface Listener {
        Listener NONE = (step, steps, mse, auxiliary, l0, dead) -> {};

        void step(long step, long steps, double mse, double auxiliary, double l0, double deadFraction);
    }

    private SaeTrainer() {}

    /** Trains on batches [batchRows, d_in] from {@code batches} (an {@link ActivationBuffer}); returns the SAE, its norm scaling folded in. */
    public static Sae train(Supplier<Tensor> batches, Options o, Listener listener) {
        SaeConfig cfg = o.cfg();
        Sae sae = Sae.initialised(cfg, o.seed());
        Tensor first = batches.get();
        double scale = o.normalizeInputs() ? normScalingFactor(first, cfg.dIn()) : 1;
        first = scaled(first, scale);
        initialiseDecoderBiasToMean(sae, first);
        boolean relu = cfg.architecture() == SaeArchitecture.STANDARD;
        if (relu) normaliseDecoderRows(sae);
        List<Parameter> params = new ArrayList<>(sae.parameters().values());
        AdamW adam = new AdamW(params, 0.9f, 0.999f, 1e-8f, 0f);
        int[] lastFired = new int[cfg.dSae()];
        long steps = o.steps();
        Tensor batch = first;
        for (long step = 0; step < steps; step++) {
            if (step > 0) batch = scaled(batches.get(), scale);
            for (Parameter p : params) p.zeroGrad();
            double l1 = relu ? o.l1Coefficient() * Math.min(1.0, (step + 1.0) / Math.max(1, o.l1WarmUpSteps())) : 0;
            StepLosses losses = step(sae, batch, l1, deadMask(lastFired, step, o.deadWindow()));
            for (int f = 0; f < cfg.dSae(); f++) if (losses.fired[f]) lastFired[f] = (int) step + 1;
            if (relu) removeGradientAlongDecoderRows(sae);
            adam.step((float) o.learningRate());
            if (relu) normaliseDecoderRows(sae);
            listener.step(step + 1, steps, losses.mse, losses.auxiliary, losses.l0, deadFraction(lastFired, step + 1, o.deadWindow()));
        }
        Sae trained = o.normalizeInputs() ? sae.foldNormScalingFactor(scale) : sae;
        for (Parameter p : trained.parameters().values()) p.setRequiresGrad(false);
        return trained;
    }

    /** One batch's losses, and which features fired in it. */
    record StepLosses(double mse, double auxiliary, double l0, boolean[] fired) {}

    /** The forward and backward of one batch: accumulates every parameter's gradient. */
    static StepLosses step(Sae sae, Tensor x, double l1, boolean[] dead) {
        return step(sae, x, l1, dead, null);
    }

    /** As above; {@code residual}, when given, stands for x − x̂ in the dead-feature loss (which treats it as a constant). */
    static StepLosses step(Sae sae, Tensor x, double l1, boolean[] dead, float[] residual) {
        SaeConfig cfg = sae.cfg();
        int n = x.dim(0), in = cfg.dIn(), features = cfg.dSae();
        Tensor c = sae.centered(x), pre = sae.preActivations(c), acts = sae.activate(pre, null), recon = sae.decode(acts);
        float[] xs = x.data(), r = recon.data(), a = acts.data();
        // d(Σ‖x − x̂‖² / n)/dx̂ = 2(x̂ − x)/n
        float[] dRecon = new float[n * in];
        double mse = 0;
        for (int i = 0; i < dRecon.length; i++) {
            double e = r[i] - xs[i];
            mse += e * e;
            dRecon[i] = (float) (2 * e / n);
        }
        boolean[] fired = new boolean[features];
        long active = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i] > 0) {
                fired[i % features] = true;
                active++;
            }
        }
        Tensor dActs = sae.decodeBackward(acts, Tensor.of(dRecon, n, in));
        double auxiliary = 0;
        if (l1 > 0) {
            // d(λ·Σ acts / n)/dacts = λ/n where a feature is active (its derivative is 0 elsewhere anyway).
            float[] d = dActs.data();
            double sum = 0;
            for (int i = 0; i < a.length; i++) {
                sum += a[i];
                d[i] += (float) (l1 / n);
            }
            auxiliary = l1 * sum / n;
        }
        Tensor dPre = Sae.activateBackward(acts, dActs);
        if (cfg.architecture() == SaeArchitecture.TOPK) auxiliary = deadFeatureLoss(sae, residual != null ? residual : residual(x, recon), pre, dead, dPre);
        sae.centeredBackward(sae.preActivationsBackward(c, dPre));
        return new StepLosses(mse / n, auxiliary, (double) active / n, fired);
    }

    /**
     * SAELens's TopK auxiliary loss: the k_aux largest pre-activations among dead features (as they
     * are, not through ReLU) decode the residual x − x̂ (held constant); its gradient is added to
     * dPre and, through the decoder, to W_dec and b_dec. Returns the loss.
     */
    private static double deadFeatureLoss(Sae sae, float[] residual, Tensor pre, boolean[] dead, Tensor dPre) {
        SaeConfig cfg = sae.cfg();
        int deadCount = 0;
        for (boolean d : dead) if (d) deadCount++;
        if (deadCount == 0) return 0;
        int features = cfg.dSae(), in = cfg.dIn(), n = residual.length / in, kAux = Math.min(in / 2, deadCount);
        double weight = Math.min(deadCount / (double) (in / 2), 1.0);
        float[] p = pre.data(), auxActs = new float[p.length];
        float[] masked = new float[features];
        for (int row = 0; row < n; row++) {
            int at = row * features;
            for (int j = 0; j < features; j++) masked[j] = dead[j] ? p[at + j] : Float.NEGATIVE_INFINITY;
            for (int j : TopK.largest(masked, 0, features, kAux)) auxActs[at + j] = p[at + j];
        }
        Tensor aux = Tensor.of(auxActs, n, features), auxRecon = sae.decode(aux);
        float[] ar = auxRecon.data(), dAux = new float[n * in];
        double loss = 0;
        for (int i = 0; i < dAux.length; i++) {
            double e = ar[i] - residual[i];
            loss += e * e;
            dAux[i] = (float) (weight * 2 * e / n);
        }
        float[] dAuxActs = sae.decodeBackward(aux, Tensor.of(dAux, n, in)).data(), d = dPre.data();
        for (int i = 0; i < d.length; i++) if (auxActs[i] != 0) d[i] += dAuxActs[i];
        return weight * loss / n;
    }

    /** x − x̂. */
    static float[] residual(Tensor x, Tensor recon) {
        float[] xs = x.data(), r = recon.data(), out = new float[xs.length];
        for (int i = 0; i < out.length; i++) out[i] = xs[i] - r[i];
        return out;
    }

    /** Features that have not fired in the last {@code window} steps (none before the window has passed once). */
    private static boolean[] deadMask(int[] lastFired, long step, int window) {
        boolean[] dead = new boolean[lastFired.length];
        if (step < window) return dead;
        for (int f = 0; f < dead.length; f++) dead[f] = step - lastFired[f] >= window;
        return dead;
    }

    private static double deadFraction(int[] lastFired, long steps, int window) {
        int dead = 0;
        for (int f : lastFired) if (steps - f >= window) dead++;
        return steps < window ? 0 : (double) dead / lastFired.length;
    }

    /** sqrt(d_in) over the mean norm of the rows: SAELens's estimated_norm_scaling_factor. */
    static double normScalingFactor(Tensor batch, int width) {
        float[] rows = batch.data();
        double sum = 0;
        int n = rows.length / width;
        for (int r = 0; r < n; r++) {
            double s = 0;
            for (int i = 0; i < width; i++) s += (double) rows[r * width + i] * rows[r * width + i];
            sum += Math.sqrt(s);
        }
        return Math.sqrt(width) / (sum / n);
    }

    private static Tensor scaled(Tensor x, double scale) {
        if (scale == 1) return x;
        float[] v = x.data();
        for (int i = 0; i < v.length; i++) v[i] = (float) (v[i] * scale);
        return x;
    }

    /** b_dec starts at the mean input (SAELens's b_dec_init_method "mean"), so that features start by encoding deviations from it. */
    private static void initialiseDecoderBiasToMean(Sae sae, Tensor x) {
        int n = x.dim(0), in = sae.cfg().dIn();
        float[] b = sae.parameters().get("b_dec").value().data(), v = x.data();
        java.util.Arrays.fill(b, 0f);
        for (int r = 0; r < n; r++) for (int i = 0; i < in; i++) b[i] += v[r * in + i] / n;
    }

    private static void normaliseDecoderRows(Sae sae) {
        int in = sae.cfg().dIn();
        float[] w = sae.decoder().value().data();
        for (int f = 0; f < sae.cfg().dSae(); f++) {
            double norm = 0;
            for (int i = 0; i < in; i++) norm += (double) w[f * in + i] * w[f * in + i];
            float inv = (float) (1 / Math.max(Math.sqrt(norm), 1e-12));
            for (int i = 0; i < in; i++) w[f * in + i] *= inv;
        }
    }

    /** Removes from each decoder row's gradient its component along the (unit) row, so a step moves the direction, not the norm. */
    private static void removeGradientAlongDecoderRows(Sae sae) {
        int in = sae.cfg().dIn();
        float[] w = sae.decoder().value().data(), g = sae.decoder().grad().data();
        for (int f = 0; f < sae.cfg().dSae(); f++) {
            double dot = 0;
            for (int i = 0; i < in; i++) dot += (double) w[f * in + i] * g[f * in + i];
            for (int i = 0; i < in; i++) g[f * in + i] -= (float) (dot * w[f * in + i]);
        }
    }
}
