package dev.jlens.analysis.sae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.analysis.Progress;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Dashboard statistics against a brute-force reading of the same activations. */
class FeatureStatisticsTest {
    @Test
    void countsTopExamplesHistogramsAndLogitWeightsMatchBruteForce() {
        HookedTransformer model = SaeFixtures.model(31);
        String hook = "blocks.1.hook_resid_post";
        SaeConfig cfg = SaeFixtures.config(SaeArchitecture.JUMPRELU, 16, 30, hook);
        java.util.Map<String, Tensor> w = SaeFixtures.weights(cfg, 32);
        for (int f = 0; f < 30; f += 4) w.get("b_enc").data()[f] = -100f; // dead features
        Sae sae = Sae.of(cfg, w, "test");
        SplittableRandom rng = new SplittableRandom(33);
        int[][] contexts = new int[11][9];
        for (int[] c : contexts) for (int i = 0; i < c.length; i++) c[i] = rng.nextInt(41);
        FeatureStatistics stats = FeatureStatistics.of(model, sae, contexts, 3, 4, Progress.NONE);
        Tensor x = model.runWithCache(Tokens.padded(0, contexts), NameFilter.exactly(hook)).cache().get(hook);
        float[] acts = sae.encode(x).data();
        float[] wU = model.parameter("unembed.W_U").value().data(), wDec = sae.parameters().get("W_dec").value().data();
        int live = 0;
        for (int f = 0; f < 30; f++) {
            FeatureStatistics.Feature feature = stats.feature(f);
            long fires = 0;
            float max = 0;
            for (int i = f; i < acts.length; i += 30) {
                if (acts[i] > 0) fires++;
                max = Math.max(max, acts[i]);
            }
            assertEquals(fires, feature.fires(), "feature " + f);
            assertEquals(fires / 99.0, feature.density(), 1e-12);
            assertEquals(max, feature.max(), 1e-6f);
            int histogram = 0;
            for (int c : feature.histogram()) histogram += c;
            assertEquals(fires, histogram);
            if (fires == 0) {
                assertTrue(stats.dead().contains(f));
                continue;
            }
            live++;
            // The examples are the feature's largest activations, strongest first, each with its whole context's activations.
            float previous = Float.POSITIVE_INFINITY;
            int count = 0;
            for (FeatureStatistics.Example e : feature.examples()) {
                assertTrue(e.value() <= previous);
                previous = e.value();
                assertEquals(acts[(e.context() * 9 + e.position()) * 30 + f], e.value(), 0f);
                for (int p = 0; p < 9; p++) assertEquals(acts[(e.context() * 9 + p) * 30 + f], e.contextActivations()[p], 1e-6f);
                count++;
            }
            assertEquals(Math.min(3, fires), count);
            int larger = 0;
            for (int i = f; i < acts.length; i += 30) if (acts[i] > feature.examples().getLast().value()) larger++;
            assertTrue(larger < 3, "no activation outside the examples beats the weakest one kept");
            // Promoted tokens: the largest entries of W_dec[f]·W_U, in order.
            double[] logit = new double[41];
            for (int t = 0; t < 41; t++) for (int i = 0; i < 16; i++) logit[t] += wDec[f * 16 + i] * wU[i * 41 + t];
            int[] order = java.util.stream.IntStream.range(0, 41).boxed().sorted((a, b) -> Double.compare(logit[b], logit[a])).mapToInt(i -> i).toArray();
            assertArrayEquals(java.util.Arrays.copyOf(order, 4), feature.promoted().stream().mapToInt(FeatureStatistics.TokenWeight::token).toArray());
            assertEquals(logit[order[40]], feature.suppressed().getFirst().weight(), 1e-5);
        }
        assertTrue(live > 5 && live < 30, live + " live features: the fixture has live and dead ones");
    }
}
