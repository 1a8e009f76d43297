package dev.jlens.kernels;

import static dev.jlens.testkit.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jlens.testkit.FiniteDifferences;
import dev.jlens.testkit.RandomArrays;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Gemma 2's soft cap against its scalar reference, and the reference against finite differences. */
class SoftCapTest {
    private static final int[] LENGTHS = {1, 7, 16, 31, 33, 100, 1023, 20_001};

    @Test
    void matchesItsReferenceForwardAndBackwardWithMaskedScores() {
        Random rng = new Random(7);
        for (float cap : new float[] {3f, 50f}) {
            for (int n : LENGTHS) {
                float[] x = RandomArrays.gaussian(rng, n, 2 * cap), dy = RandomArrays.gaussian(rng, n, 1f);
                for (int i = 0; i < n; i += 5) x[i] = Float.NEGATIVE_INFINITY; // masked scores
                if (n > 3) x[3] = 1e-6f; // tanh's cancellation near 0 must not cost relative precision
                float[] expected = new float[n], actual = new float[n];
                SoftCap.forwardReference(x, expected, n, cap);
                SoftCap.forward(x, actual, n, cap);
                assertClose(expected, actual, 2e-6, 1e-30, "soft cap forward n=" + n);
                for (int i = 0; i < n; i += 5) assertEquals(Float.NEGATIVE_INFINITY, actual[i], "a masked score stays −∞");
                float[] dxExpected = new float[n], dxActual = new float[n];
                SoftCap.backwardReference(expected, dy, dxExpected, n, cap);
                SoftCap.backward(expected, dy, dxActual, n, cap);
                assertClose(dxExpected, dxActual, 2e-6, 1e-6, "soft cap backward n=" + n);
                for (int i = 0; i < n; i += 5) assertEquals(0f, dxActual[i], 0f, "no gradient through a masked score");
            }
        }
    }

    @Test
    void anElementsValueDoesNotDependOnTheLengthOfItsArray() {
        Random rng = new Random(8);
        float[] x = RandomArrays.gaussian(rng, 20_011, 10f);
        float[] whole = new float[x.length];
        SoftCap.forward(x, whole, x.length, 5f);
        for (int length : new int[] {1, 15, 17, 8193}) {
            float[] part = new float[length];
            SoftCap.forward(Arrays.copyOf(x, length), part, length, 5f);
            assertArrayEquals(Arrays.copyOf(whole, length), part, "length " + length);
        }
    }

    @Test
    void referenceBackwardIsTheDerivative() {
        Random rng = new Random(9);
        int n = 64;
        float cap = 4f;
        float[] x = RandomArrays.gaussian(rng, n, 6f), r = RandomArrays.gaussian(rng, n, 1f);
        float[] numeric = FiniteDifferences.gradient(v -> {
            float[] y = new float[n];
            SoftCap.forwardReference(v, y, n, cap);
            return y;
        }, x, r, 1e-2f);
        float[] y = new float[n], analytic = new float[n];
        SoftCap.forwardReference(x, y, n, cap);
        SoftCap.backwardReference(y, r, analytic, n, cap);
        assertClose(numeric, analytic, 2e-3, 2e-3, "soft cap finite differences");
    }
}
