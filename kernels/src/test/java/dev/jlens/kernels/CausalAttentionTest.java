package dev.jlens.kernels;

import static dev.jlens.testkit.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jlens.testkit.FiniteDifferences;
import dev.jlens.testkit.RandomArrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CausalAttentionTest {
    @Test
    void forwardMatchesReferenceAndMasksTheFuture() {
        Random rng = new Random(1);
        for (int[] s : new int[][] {{1, 1, 1, 4}, {2, 7, 3, 8}, {1, 33, 2, 17}, {2, 20, 4, 64}}) {
            int b = s[0], t = s[1], h = s[2], d = s[3];
            float[] q = RandomArrays.gaussian(rng, b * t * h * d, 1f), k = RandomArrays.gaussian(rng, q.length, 1f),
                    v = RandomArrays.gaussian(rng, q.length, 1f);
            float[] scores = new float[b * h * t * t], pattern = new float[scores.length], z = new float[q.length];
            float[] patternE = new float[scores.length], zE = new float[q.length];
            CausalAttention.forward(q, k, v, scores, pattern, z, b, t, h, d);
            CausalAttention.forwardReference(q, k, v, patternE, zE, b, t, h, d);
            assertClose(patternE, pattern, 1e-5, 1e-6, "pattern");
            assertClose(zE, z, 1e-4, 1e-5, "z");
            for (int row = 0; row < b * h * t; row++) {
                int i = row % t;
                for (int j = i + 1; j < t; j++) assertEquals(Float.NEGATIVE_INFINITY, scores[row * t + j]);
            }
        }
    }

    @Test
    void backwardIsTheDerivativeForQKAndV() {
        Random rng = new Random(2);
        int b = 2, t = 5, h = 2, d = 3;
        float[] q = RandomArrays.gaussian(rng, b * t * h * d, 1f), k = RandomArrays.gaussian(rng, q.length, 1f),
                v = RandomArrays.gaussian(rng, q.length, 1f), r = RandomArrays.gaussian(rng, q.length, 1f);
        float[] pattern = new float[b * h * t * t], z = new float[q.length];
        CausalAttention.forward(q, k, v, new float[pattern.length], pattern, z, b, t, h, d);
        float[] dq = new float[q.length], dk = new float[q.length], dv = new float[q.length];
        CausalAttention.backward(r, q, k, v, pattern, dq, dk, dv, b, t, h, d);
        float[] numQ = FiniteDifferences.gradient(x -> zRef(x, k, v, b, t, h, d), q, r, 1e-2f);
        float[] numK = FiniteDifferences.gradient(x -> zRef(q, x, v, b, t, h, d), k, r, 1e-2f);
        float[] numV = FiniteDifferences.gradient(x -> zRef(q, k, x, b, t, h, d), v, r, 1e-2f);
        assertClose(numQ, dq, 3e-3, 1e-3, "dq");
        assertClose(numK, dk, 3e-3, 1e-3, "dk");
        assertClose(numV, dv, 3e-3, 1e-3, "dv");
    }

    private static float[] zRef(float[] q, float[] k, float[] v, int b, int t, int h, int d) {
        float[] z = new float[q.length];
        CausalAttention.forwardReference(q, k, v, new float[b * h * t * t], z, b, t, h, d);
        return z;
    }

    /** Queries after cached keys, left padding (a query that sees nothing), a window: each against the double reference. */
    private static final CausalMask[] MASKS = {
        new CausalMask(2, 2, 5, 12, new int[] {0, 3}, 0), new CausalMask(2, 3, 1, 9, new int[] {2, 8}, 0),
        new CausalMask(1, 2, 6, 6, new int[] {4}, 0), new CausalMask(2, 2, 4, 10, new int[] {1, 0}, 3),
        // Read from a cache: four query heads on two key/value heads, 9 of 13 rows used; one query and six.
        new CausalMask(2, 4, 1, 9, new int[] {0, 5}, 0, 2, 13), new CausalMask(2, 4, 6, 9, new int[] {2, 0}, 4, 1, 11)};

    @Test
    void maskedForwardMatchesReference() {
        Random rng = new Random(3);
        int d = 5;
        for (CausalMask m : MASKS) {
            int b = m.batch(), h = m.heads();
            float[] q = RandomArrays.gaussian(rng, b * m.queries() * h * d, 1f), k = RandomArrays.gaussian(rng, b * m.keyRows() * m.kvHeads() * d, 1f),
                    v = RandomArrays.gaussian(rng, k.length, 1f);
            float[] scores = new float[m.rows() * m.keys()], pattern = new float[scores.length], z = new float[q.length];
            float[] patternE = new float[scores.length], zE = new float[q.length];
            CausalAttention.forward(q, k, v, scores, pattern, z, m, d);
            CausalAttention.forwardReference(q, k, v, patternE, zE, m, d);
            assertClose(patternE, pattern, 1e-5, 1e-6, "pattern");
            assertClose(zE, z, 1e-4, 1e-5, "z");
            for (int row = 0; row < m.rows(); row++) {
                int i = row % m.queries(), batch = row / (h * m.queries());
                for (int j = 0; j < m.keys(); j++) {
                    boolean seen = j >= m.first(batch, i) && j <= m.last(i);
                    if (!seen) assertEquals(Float.NEGATIVE_INFINITY, scores[row * m.keys() + j]);
                    if (!seen) assertEquals(0f, pattern[row * m.keys() + j]);
                }
            }
        }
    }

    @Test
    void maskedBackwardIsTheDerivative() {
        Random rng = new Random(4);
        int d = 3;
        for (CausalMask m : MASKS) {
            if (!m.plainKeys()) continue; // a backward never runs through a cache
            int b = m.batch(), h = m.heads();
            float[] q = RandomArrays.gaussian(rng, b * m.queries() * h * d, 1f), k = RandomArrays.gaussian(rng, b * m.keys() * h * d, 1f),
                    v = RandomArrays.gaussian(rng, k.length, 1f), r = RandomArrays.gaussian(rng, q.length, 1f);
            float[] pattern = new float[m.rows() * m.keys()], z = new float[q.length];
            CausalAttention.forward(q, k, v, new float[pattern.length], pattern, z, m, d);
            float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
            CausalAttention.backward(r, q, k, v, pattern, dq, dk, dv, m, d);
            assertClose(FiniteDifferences.gradient(x -> zRef(x, k, v, m, d), q, r, 1e-2f), dq, 3e-3, 1e-3, "dq");
            assertClose(FiniteDifferences.gradient(x -> zRef(q, x, v, m, d), k, r, 1e-2f), dk, 3e-3, 1e-3, "dk");
            assertClose(FiniteDifferences.gradient(x -> zRef(q, k, x, m, d), v, r, 1e-2f), dv, 3e-3, 1e-3, "dv");
        }
    }

    private static float[] zRef(float[] q, float[] k, float[] v, CausalMask m, int d) {
        float[] z = new float[q.length];
        CausalAttention.forwardReference(q, k, v, new float[m.rows() * m.keys()], z, m, d);
        return z;
    }
}
