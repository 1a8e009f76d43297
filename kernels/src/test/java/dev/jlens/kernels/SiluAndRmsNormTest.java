package dev.jlens.kernels;

import static dev.jlens.testkit.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.jlens.testkit.FiniteDifferences;
import dev.jlens.testkit.RandomArrays;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** SiLU, the RMS norm's own steps and the elementwise product, each against its scalar reference and the references against finite differences. */
class SiluAndRmsNormTest {
    private static final int[] LENGTHS = {1, 7, 16, 31, 33, 100, 1023, 20_001};

    @Test
    void siluMatchesItsReferenceForwardAndBackwardIntoBothTails() {
        Random rng = new Random(3);
        for (int n : LENGTHS) {
            float[] x = RandomArrays.gaussian(rng, n, 4f), dy = RandomArrays.gaussian(rng, n, 1f);
            if (n > 40) for (int i = 0; i < 40; i++) x[i] = -100 + 5 * i; // e^(−x) overflows float below about −88
            float[] expected = new float[n], actual = new float[n];
            Silu.forwardReference(x, expected, n);
            Silu.forward(x, actual, n);
            assertClose(expected, actual, 2e-6, 1e-30, "silu forward n=" + n);
            float[] dxExpected = RandomArrays.gaussian(rng, n, 1f), dxActual = dxExpected.clone();
            Silu.backwardReference(x, dy, dxExpected, n);
            Silu.backward(x, dy, dxActual, n);
            assertClose(dxExpected, dxActual, 2e-6, 1e-6, "silu backward n=" + n);
        }
    }

    @Test
    void anElementsSiluDoesNotDependOnTheLengthOfItsArray() {
        Random rng = new Random(4);
        float[] x = RandomArrays.gaussian(rng, 20_011, 2f);
        float[] whole = new float[x.length];
        Silu.forward(x, whole, x.length);
        for (int length : new int[] {1, 15, 17, 8193}) {
            float[] part = new float[length];
            Silu.forward(Arrays.copyOf(x, length), part, length);
            assertArrayEquals(Arrays.copyOf(whole, length), part, "length " + length);
        }
    }

    @Test
    void siluReferenceBackwardIsTheDerivative() {
        Random rng = new Random(5);
        int n = 64;
        float[] x = RandomArrays.gaussian(rng, n, 3f), r = RandomArrays.gaussian(rng, n, 1f);
        float[] numeric = FiniteDifferences.gradient(v -> {
            float[] y = new float[n];
            Silu.forwardReference(v, y, n);
            return y;
        }, x, r, 1e-2f);
        float[] analytic = new float[n];
        Silu.backwardReference(x, r, analytic, n);
        assertClose(numeric, analytic, 2e-3, 2e-3, "silu finite differences");
    }

    @Test
    void rmsNormStepsMatchTheirReferences() {
        Random rng = new Random(6);
        for (int c : new int[] {1, 7, 16, 33, 300}) {
            int n = 9;
            float[] x = RandomArrays.gaussian(rng, n * c, 2f), expected = new float[n], actual = new float[n];
            RmsNorm.statisticsReference(x, expected, n, c, 1e-6f);
            RmsNorm.statistics(x, actual, n, c, 1e-6f);
            assertClose(expected, actual, 1e-6, 0, "rstd c=" + c);
            float[] dScale = RandomArrays.gaussian(rng, n, 1f), dxExpected = RandomArrays.gaussian(rng, n * c, 1f), dxActual = dxExpected.clone();
            RmsNorm.backwardFromScaleReference(dxExpected, dScale, x, expected, n, c);
            RmsNorm.backwardFromScale(dxActual, dScale, x, expected, n, c);
            assertClose(dxExpected, dxActual, 1e-6, 1e-7, "from scale c=" + c);
        }
    }

    /**
     * The whole RMS norm as its steps compose it (zero mean in the layer norm's kernels), against
     * finite differences of y = x / √(mean(x²) + eps) · w: the reference chain is the derivative.
     */
    @Test
    void rmsNormStepsComposeToTheDerivativeOfTheNorm() {
        Random rng = new Random(7);
        int n = 3, c = 11;
        float eps = 1e-5f;
        float[] x = RandomArrays.gaussian(rng, n * c, 1.5f), w = RandomArrays.gaussian(rng, c, 1f), r = RandomArrays.gaussian(rng, n * c, 1f);
        float[] numeric = FiniteDifferences.gradient(v -> rms(v, w, n, c, eps), x, r, 1e-2f);
        float[] rstd = new float[n], zeroMean = new float[n], dx = new float[n * c], dScale = new float[n], dw = new float[c];
        RmsNorm.statisticsReference(x, rstd, n, c, eps);
        LayerNorm.backwardToScale(dx, dw, null, dScale, r, x, w, zeroMean, rstd, n, c);
        RmsNorm.backwardFromScaleReference(dx, dScale, x, rstd, n, c);
        assertClose(numeric, dx, 2e-3, 2e-3, "rms norm finite differences");
    }

    private static float[] rms(float[] x, float[] w, int n, int c, float eps) {
        float[] y = new float[n * c];
        for (int row = 0; row < n; row++) {
            double squares = 0;
            for (int i = 0; i < c; i++) squares += (double) x[row * c + i] * x[row * c + i];
            double rstd = 1 / Math.sqrt(squares / c + eps);
            for (int i = 0; i < c; i++) y[row * c + i] = (float) (x[row * c + i] * rstd * w[i]);
        }
        return y;
    }

    @Test
    void theElementwiseProductIsExact() {
        Random rng = new Random(8);
        for (int n : LENGTHS) {
            float[] a = RandomArrays.gaussian(rng, n + 3, 1f), b = RandomArrays.gaussian(rng, n + 5, 1f), out = new float[n + 2];
            Simd.mul(a, 3, b, 5, out, 2, n);
            for (int i = 0; i < n; i++) org.junit.jupiter.api.Assertions.assertEquals(a[3 + i] * b[5 + i], out[2 + i]);
        }
    }
}
