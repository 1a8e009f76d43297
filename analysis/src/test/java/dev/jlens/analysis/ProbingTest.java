package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ProbingTest {
    /** Feature 2 separates the classes (noisily), the others are noise of the same size. */
    static Probing.Dataset data(int n, long seed) {
        Random rng = new Random(seed);
        List<float[]> pos = new ArrayList<>(), neg = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            pos.add(new float[] {(float) rng.nextGaussian(), (float) rng.nextGaussian(), (float) (1.5 + rng.nextGaussian()), (float) rng.nextGaussian()});
            neg.add(new float[] {(float) rng.nextGaussian(), (float) rng.nextGaussian(), (float) (-1.5 + rng.nextGaussian()), (float) rng.nextGaussian()});
        }
        return Probing.balanced(pos, neg);
    }

    @Test
    void theClassMeanDifferenceRanksTheInformativeFeatureFirst() {
        Probing.Dataset d = data(500, 1);
        assertEquals(2, Probing.topK(Probing.classMeanDifference(d), 4)[0]);
    }

    @Test
    void theFittedProbeIsTheOptimumOfItsObjectiveAndItsAccuracyIsARecount() {
        Probing.Split split = Probing.split(data(400, 2), 0.2, 3);
        Probing.Dataset train = split.train().columns(2), test = split.test().columns(2);
        Probing.LogisticRegression probe = Probing.LogisticRegression.fit(train, 1.0);
        double[] params = {probe.weights()[0], probe.bias()};
        // At the optimum the objective's gradient vanishes (relative to its size at the start).
        double[] g = Probing.LogisticRegression.gradient(train, params, 1.0), g0 = Probing.LogisticRegression.gradient(train, new double[2], 1.0);
        assertTrue(Math.hypot(g[0], g[1]) < 1e-4 * Math.hypot(g0[0], g0[1]), "gradient at the fit: " + g[0] + ", " + g[1]);
        int right = 0;
        for (int i = 0; i < test.y().length; i++) right += (probe.weights()[0] * test.x()[i][0] + probe.bias() > 0 ? 1 : 0) == test.y()[i] ? 1 : 0;
        assertEquals((double) right / test.y().length, probe.accuracy(test));
        assertTrue(probe.accuracy(test) > 0.85, "a separable feature probes well: " + probe.accuracy(test));
        Probing.LogisticRegression noise = Probing.LogisticRegression.fit(split.train().columns(0), 1.0);
        assertTrue(noise.accuracy(split.test().columns(0)) < 0.65, "a noise feature does not");
    }

    @Test
    void splitsAreSeededBalancedAndDisjoint() {
        Probing.Dataset d = data(50, 4);
        Probing.Split a = Probing.split(d, 0.2, 9), b = Probing.split(d, 0.2, 9);
        assertEquals(20, a.test().y().length);
        assertEquals(80, a.train().y().length);
        assertArrayEquals(a.test().y(), b.test().y());
        int ones = 0;
        for (int y : d.y()) ones += y;
        assertEquals(50, ones);
    }
}
