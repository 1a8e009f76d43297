package dev.jlens.analysis.sae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.testkit.FiniteDifferences;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** SAE training: the training step's gradients against finite differences of its loss, and recovery of a known sparse dictionary. */
class SaeTrainerTest {
    /** The whole training loss of a batch (MSE + L1, or MSE + the TopK dead-feature loss) against finite differences in every weight. */
    @ParameterizedTest
    @EnumSource(value = SaeArchitecture.class, names = {"STANDARD", "TOPK"})
    void aTrainingStepsGradientsMatchFiniteDifferencesOfItsLoss(SaeArchitecture architecture) {
        Sae sae = SaeFixtures.sae(architecture, 6, 12, "h", 11);
        Tensor x = SaeFixtures.random(new SplittableRandom(12), 1.0, 5, 6);
        boolean[] dead = new boolean[12];
        for (int f = 0; f < 12; f += 3) dead[f] = true; // a TopK SAE with dead features: the auxiliary loss takes part
        double l1 = architecture == SaeArchitecture.STANDARD ? 0.3 : 0;
        Map<String, Parameter> params = sae.parameters();
        params.values().forEach(Parameter::zeroGrad);
        // SAELens holds the residual x − x̂ the dead features reconstruct constant (detached): so does the loss differentiated here.
        float[] residual = SaeTrainer.residual(x, sae.decode(sae.encode(x)));
        SaeTrainer.StepLosses losses = SaeTrainer.step(sae, x, l1, dead, residual);
        if (architecture == SaeArchitecture.TOPK) assertTrue(losses.auxiliary() > 0, "the dead features' loss is on");
        Map<String, float[]> analytic = new java.util.LinkedHashMap<>();
        params.forEach((name, p) -> analytic.put(name, p.grad().data().clone()));
        java.util.function.DoubleSupplier loss = () -> {
            params.values().forEach(Parameter::zeroGrad);
            SaeTrainer.StepLosses s = SaeTrainer.step(sae, x, l1, dead, residual);
            return s.mse() + s.auxiliary();
        };
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            float[] values = e.getValue().value().data();
            FiniteDifferences.check(e.getKey(), values, analytic.get(e.getKey()), SaeTest.all(values.length), 1e-3f, loss, 2e-3, 5e-4);
        }
    }

    /**
     * Rows that are sparse sums of 24 known directions in 12 dimensions (two or three per row): a
     * TopK SAE (k 3) and a ReLU SAE with an L1 penalty learn the directions back, each direction
     * found by some decoder row with cosine above 0.9, and reconstruct held-out rows.
     */
    @ParameterizedTest
    @EnumSource(value = SaeArchitecture.class, names = {"STANDARD", "TOPK"})
    void trainingRecoversAKnownSparseDictionary(SaeArchitecture architecture) {
        int in = 12, truth = 24, features = 48;
        SplittableRandom rng = new SplittableRandom(21);
        float[][] directions = new float[truth][in];
        for (float[] d : directions) {
            double norm = 0;
            for (int i = 0; i < in; i++) {
                d[i] = (float) rng.nextGaussian();
                norm += d[i] * d[i];
            }
            for (int i = 0; i < in; i++) d[i] /= (float) Math.sqrt(norm);
        }
        Supplier<Tensor> batches = () -> {
            float[] rows = new float[256 * in];
            for (int r = 0; r < 256; r++) {
                int active = 2 + rng.nextInt(2);
                for (int a = 0; a < active; a++) {
                    float[] d = directions[rng.nextInt(truth)];
                    float magnitude = (float) (0.5 + rng.nextDouble());
                    for (int i = 0; i < in; i++) rows[r * in + i] += magnitude * d[i];
                }
            }
            return Tensor.of(rows, 256, in);
        };
        SaeConfig cfg = new SaeConfig(architecture, in, features, architecture == SaeArchitecture.TOPK ? 3 : 0, true,
                SaeConfig.Normalization.NONE, "h", null, false);
        // L1 0.2 (with unit decoder rows) is where a grid of 0.005-0.2 at learning rates 1e-3 and 3e-3 found the dictionary.
        double lr = architecture == SaeArchitecture.TOPK ? 3e-3 : 1e-3;
        SaeTrainer.Options options = new SaeTrainer.Options(cfg, 256L * 3000, 256, lr, 0.2, 300, 200, false, 5);
        List<Double> mses = new ArrayList<>();
        Sae sae = SaeTrainer.train(batches, options, (step, steps, mse, aux, l0, dead) -> mses.add(mse));
        assertEquals(3000, mses.size());
        assertTrue(mses.getLast() < 0.1 * mses.getFirst(), "the loss falls: " + mses.getFirst() + " -> " + mses.getLast());
        float[] w = sae.parameters().get("W_dec").value().data();
        Set<Integer> found = new HashSet<>();
        for (int t = 0; t < truth; t++) {
            for (int f = 0; f < features; f++) {
                double dot = 0, norm = 0;
                for (int i = 0; i < in; i++) {
                    dot += directions[t][i] * w[f * in + i];
                    norm += w[f * in + i] * w[f * in + i];
                }
                if (dot / Math.sqrt(norm) > 0.9) found.add(t);
            }
        }
        assertTrue(found.size() >= 22, found.size() + " of " + truth + " directions found");
        Tensor held = batches.get();
        float[] x = held.data(), recon = sae.decode(sae.encode(held)).data();
        double error = 0, norm = 0;
        for (int i = 0; i < x.length; i++) {
            error += (x[i] - recon[i]) * (x[i] - recon[i]);
            norm += x[i] * x[i];
        }
        assertTrue(error / norm < 0.1, "normalised MSE on held-out rows " + error / norm);
    }
}
