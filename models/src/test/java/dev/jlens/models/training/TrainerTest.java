package dev.jlens.models.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.DataType;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.models.Config;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.RandomWeights;
import dev.jlens.models.TestModels;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.ModelExport;
import dev.jlens.models.loading.ModelLoader;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    @TempDir
    Path dir;

    /** A text with structure to learn: repeated "words" of a small vocabulary, in a seeded order. */
    static int[] stream(int length, long seed) {
        int[][] words = {{1, 2, 3}, {4, 5}, {6, 7, 8, 9}, {10, 11}, {12, 13, 14}};
        SplittableRandom rng = new SplittableRandom(seed);
        int[] out = new int[length];
        for (int i = 0; i < length; ) {
            for (int t : words[rng.nextInt(words.length)]) if (i < length) out[i++] = t;
        }
        return out;
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("dev.jlens.models.TestModels#all")
    void twoHundredStepsBringTheLossWellDownAndTheCheckpointReloadsToIdenticalLogits(Config cfg) {
        HookedTransformer model = HookedTransformer.fromStateDict(cfg, RandomWeights.of(cfg, 1, 0.02));
        int[] train = stream(20_000, 2), eval = stream(4_000, 3);
        Trainer.Options options = new Trainer.Options(8, 16, new LearningRateSchedule(3e-3f, 3e-4f, 20, 200), 0.01f, 1.0f, 50, 4, 7);
        List<Trainer.Progress> history = Trainer.train(model, train, eval, options, null);
        double first = history.get(0).loss(), last = history.get(199).loss();
        double evalLast = history.get(199).evalLoss();
        assertTrue(first > 3.0, "a random model starts near ln(37) = 3.6: " + first);
        assertTrue(last < 0.5 * first && evalLast < 0.5 * first, "loss " + first + " → " + last + " (held out " + evalLast + ")");

        Map<String, Tensor> state = new LinkedHashMap<>();
        for (Parameter p : model.parameters().values()) state.put(p.name(), p.value());
        Path checkpoint = dir.resolve("trained-" + cfg.family().modelType() + (cfg.shortformer() ? "-shortformer" : ""));
        ModelExport.write(checkpoint, cfg, state);
        Tokens tokens = Tokens.of(java.util.Arrays.copyOf(eval, 16));
        assertArrayEquals(model.forward(tokens).data(), ModelLoader.load(checkpoint).forward(tokens).data());
    }

    /**
     * A bf16 model trains on float32 master weights: step for step, the same losses as a float32
     * model holding the same (rounded) values.
     */
    @Test
    void aBfloat16ModelTrainsOnFloat32MasterWeights() {
        Config cfg = TestModels.llamaLike();
        Map<String, Tensor> weights = RandomWeights.of(cfg, 4, 0.02, DataType.BFLOAT16);
        Map<String, Tensor> widened = new LinkedHashMap<>();
        weights.forEach((name, t) -> widened.put(name, Tensor.of(t.copy().data(), t.shape())));
        HookedTransformer half = HookedTransformer.fromStateDict(cfg, weights), wide = HookedTransformer.fromStateDict(cfg, widened);
        assertEquals(DataType.BFLOAT16, half.parameter("blocks.0.mlp.W_in").value().dtype());
        int[] train = stream(4_000, 5);
        Trainer.Options options = new Trainer.Options(4, 16, new LearningRateSchedule(1e-4f, 1e-5f, 0, 20), 0.01f, 1.0f, 0, 0, 6);
        List<Trainer.Progress> halfHistory = Trainer.train(half, train, null, options, null);
        List<Trainer.Progress> wideHistory = Trainer.train(wide, train, null, options, null);
        for (int step = 0; step < 20; step++) assertEquals(wideHistory.get(step).loss(), halfHistory.get(step).loss(), 0.0, "step " + step);
        for (Parameter p : half.parameters().values()) assertEquals(DataType.FLOAT32, p.value().dtype(), p.name());
        assertTrue(halfHistory.get(19).loss() < halfHistory.get(0).loss(), "the loss falls at a learning rate of 1e-4");
    }

    @Test
    void adamwFollowsTheTextbookUpdate() {
        int n = 37; // not a multiple of the vector width: the scalar tail is exercised too
        SplittableRandom rng = new SplittableRandom(5);
        Parameter p = Parameter.of("w", Tensor.zeros(n));
        double[] w = new double[n], m = new double[n], v = new double[n];
        for (int i = 0; i < n; i++) w[i] = p.value().data()[i] = (float) rng.nextDouble(-1, 1);
        dev.jlens.models.training.AdamW adamw = new dev.jlens.models.training.AdamW(List.of(p), 0.9f, 0.95f, 1e-8f, 0.1f);
        for (int t = 1; t <= 4; t++) {
            for (int i = 0; i < n; i++) p.grad().data()[i] = (float) rng.nextDouble(-1, 1);
            float lr = 0.01f * t;
            adamw.step(lr);
            for (int i = 0; i < n; i++) {
                double g = p.grad().data()[i];
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.95 * v[i] + 0.05 * g * g;
                double mHat = m[i] / (1 - Math.pow(0.9, t)), vHat = v[i] / (1 - Math.pow(0.95, t));
                w[i] -= lr * (mHat / (Math.sqrt(vHat) + 1e-8) + 0.1 * w[i]);
                assertEquals(w[i], p.value().data()[i], 2e-6, "step " + t + " entry " + i);
            }
        }
    }

    @Test
    void theScheduleWarmsUpLinearlyThenDecaysAlongACosine() {
        LearningRateSchedule s = new LearningRateSchedule(1f, 0.1f, 10, 110);
        assertEquals(0.1f, s.at(0), 1e-6);
        assertEquals(1f, s.at(9), 1e-6);
        assertEquals(1f, s.at(10), 1e-6);
        assertEquals(0.55f, s.at(60), 1e-6);
        assertEquals(0.1f, s.at(110), 1e-6);
    }

    @Test
    void clippingScalesTheGlobalNormDownAndLeavesSmallGradientsAlone() {
        Parameter a = Parameter.of("a", Tensor.zeros(2)), b = Parameter.of("b", Tensor.zeros(1));
        a.grad().data()[0] = 3;
        b.grad().data()[0] = 4;
        assertEquals(5.0, Trainer.clipGradients(List.of(a, b), 1f), 1e-9);
        assertEquals(0.6f, a.grad().data()[0], 1e-6);
        assertEquals(0.8f, b.grad().data()[0], 1e-6);
        assertEquals(1.0, Trainer.clipGradients(List.of(a, b), 2f), 1e-6);
        assertEquals(0.6f, a.grad().data()[0], 1e-6);
    }
}
