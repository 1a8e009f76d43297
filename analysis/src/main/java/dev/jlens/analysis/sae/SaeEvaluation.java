package dev.jlens.analysis.sae;

import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;

/**
 * How well an SAE stands in for the activation it reads, over held-out contexts, with SAELens's
 * evaluation metrics:
 *
 * @param normalisedMse      Σ‖x − x̂‖² / Σ‖x‖²
 * @param explainedVariance  1 − Σ‖x − x̂‖² / Σ‖x − x̄‖²
 * @param l0                 mean number of active features per position
 * @param deadFraction       features that fired at no position of the contexts
 * @param cleanLoss          the model's next-token cross-entropy
 * @param saeLoss            with the SAE's reconstruction in place of the activation (no error term)
 * @param zeroAblationLoss   with the activation replaced by zeros
 * @param density            per feature, the fraction of positions where it fired
 */
public record SaeEvaluation(double normalisedMse, double explainedVariance, double l0, double deadFraction, double cleanLoss, double saeLoss,
                            double zeroAblationLoss, float[] density) {

    /** (L_zero − L_sae) / (L_zero − L_clean): 1 when splicing the SAE in costs nothing, 0 when it is as bad as erasing the activation. */
    public double ceLossRecovered() {
        return (zeroAblationLoss - saeLoss) / (zeroAblationLoss - cleanLoss);
    }

    public static SaeEvaluation of(HookedTransformer model, Sae sae, Tokens tokens) {
        String hook = sae.cfg().hookName();
        int in = sae.cfg().dIn(), features = sae.cfg().dSae();
        float[][] captured = new float[1][];
        double clean;
        try (HookScope scope = model.hookPoints().scope()) {
            scope.forward(hook, (x, point) -> {
                captured[0] = x.data().clone();
                return null;
            });
            clean = model.loss(tokens);
        }
        float[] x = captured[0];
        int n = x.length / in;
        Tensor rows = Tensor.of(x.clone(), n, in);
        float[] acts = sae.encode(rows).data(), recon = sae.decode(Tensor.of(acts, n, features)).data();
        double[] mean = new double[in];
        for (int r = 0; r < n; r++) for (int i = 0; i < in; i++) mean[i] += x[r * in + i] / (double) n;
        double error = 0, norm = 0, variance = 0;
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < in; i++) {
                double v = x[r * in + i], e = v - recon[r * in + i], d = v - mean[i];
                error += e * e;
                norm += v * v;
                variance += d * d;
            }
        }
        float[] density = new float[features];
        long active = 0;
        for (int i = 0; i < acts.length; i++) {
            if (acts[i] > 0) {
                density[i % features] += 1f / n;
                active++;
            }
        }
        int dead = 0;
        for (float d : density) if (d == 0) dead++;
        double spliced;
        try (SaeSplice ignored = SaeSplice.attach(model, sae, false)) {
            spliced = model.loss(tokens);
        }
        double zero;
        try (HookScope scope = model.hookPoints().scope()) {
            scope.forward(hook, (a, point) -> Tensor.zeros(a.shape()));
            zero = model.loss(tokens);
        }
        return new SaeEvaluation(error / norm, 1 - error / variance, (double) active / n, (double) dead / features, clean, spliced, zero, density);
    }
}
