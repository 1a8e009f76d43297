package dev.jlens.kernels;

import static dev.jlens.testkit.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jlens.testkit.FiniteDifferences;
import dev.jlens.testkit.RandomArrays;
import java.util.Random;
import org.apache.commons.math3.special.Erf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ElementwiseKernelsTest {
    private static final int[] LENGTHS = {1, 7, 16, 31, 33, 100, 1023, 20_001};

    @ParameterizedTest
    @EnumSource(Gelu.Kind.class)
    void geluMatchesReferenceForwardAndBackward(Gelu.Kind kind) {
        Random rng = new Random(1);
        for (int n : LENGTHS) {
            float[] x = RandomArrays.gaussian(rng, n, 3f), dy = RandomArrays.gaussian(rng, n, 1f);
            float[] expected = new float[n], actual = new float[n];
            Gelu.forwardReference(kind, x, expected, n);
            Gelu.forward(kind, x, actual, n);
            assertClose(expected, actual, 2e-6, 1e-7, kind + " forward n=" + n);
            float[] dxExpected = RandomArrays.gaussian(rng, n, 1f), dxActual = dxExpected.clone();
            Gelu.backwardReference(kind, x, dy, dxExpected, n);
            Gelu.backward(kind, x, dy, dxActual, n);
            assertClose(dxExpected, dxActual, 2e-6, 1e-6, kind + " backward n=" + n);
        }
    }

    @ParameterizedTest
    @EnumSource(Gelu.Kind.class)
    void anElementsGeluDoesNotDependOnTheLengthOfItsArray(Gelu.Kind kind) {
        // A batch's size must not change a value: the same element, in arrays of different lengths.
        Random rng = new Random(9);
        float[] x = RandomArrays.gaussian(rng, 20_011, 2f), dy = RandomArrays.gaussian(rng, x.length, 1f);
        for (int length : new int[] {1, 15, 17, 8193, 20_011}) {
            float[] shortY = new float[length], longY = new float[x.length];
            Gelu.forward(kind, java.util.Arrays.copyOf(x, length), shortY, length);
            Gelu.forward(kind, x, longY, x.length);
            org.junit.jupiter.api.Assertions.assertArrayEquals(java.util.Arrays.copyOf(longY, length), shortY, "forward, length " + length);
            float[] shortDx = new float[length], longDx = new float[x.length];
            Gelu.backward(kind, java.util.Arrays.copyOf(x, length), java.util.Arrays.copyOf(dy, length), shortDx, length);
            Gelu.backward(kind, x, dy, longDx, x.length);
            org.junit.jupiter.api.Assertions.assertArrayEquals(java.util.Arrays.copyOf(longDx, length), shortDx, "backward, length " + length);
        }
    }

    @ParameterizedTest
    @EnumSource(Gelu.Kind.class)
    void geluReferenceBackwardIsTheDerivative(Gelu.Kind kind) {
        Random rng = new Random(2);
        int n = 64;
        float[] x = RandomArrays.gaussian(rng, n, 2.5f), r = RandomArrays.gaussian(rng, n, 1f);
        float[] numeric = FiniteDifferences.gradient(v -> {
            float[] y = new float[n];
            Gelu.forwardReference(kind, v, y, n);
            return y;
        }, x, r, 1e-2f);
        float[] analytic = new float[n];
        Gelu.backwardReference(kind, x, r, analytic, n);
        assertClose(numeric, analytic, 2e-3, 2e-3, kind + " finite differences");
    }

    @Test
    void erfcFitAgreesWithCommonsMathToFloatPrecision() {
        for (double z = -6; z <= 9; z += 0.01) {
            double expected = Erf.erfc(z), actual = Gelu.erfc(z);
            assertEquals(expected, actual, 1.3e-7 * expected, "erfc(" + z + ")");
        }
    }

    @Test
    void geluNewAndExactGeluDifferWhereTheyShould() {
        // Guards against wiring one variant to the other: they differ by ~1e-3 near |x| = 2.
        float[] x = {2f}, tanh = new float[1], erf = new float[1];
        Gelu.forward(Gelu.Kind.TANH, x, tanh, 1);
        Gelu.forward(Gelu.Kind.ERF, x, erf, 1);
        assertEquals(1.9545977, tanh[0], 1e-6);
        assertEquals(1.9544997, erf[0], 1e-6);
    }

    @Test
    void softmaxMatchesReferenceWithCausalMask() {
        Random rng = new Random(3);
        for (int n : LENGTHS) {
            if (n > 2000) continue;
            for (int valid : new int[] {1, Math.max(1, n / 2), n}) {
                float[] x = RandomArrays.gaussian(rng, n + 4, 4f);
                float[] expected = new float[n + 4], actual = new float[n + 4];
                Softmax.forwardReference(x, 2, expected, 1, valid, n);
                Softmax.forward(x, 2, actual, 1, valid, n);
                assertClose(expected, actual, 1e-5, 1e-7, "softmax n=" + n + " valid=" + valid);
                float[] dp = RandomArrays.gaussian(rng, n + 4, 1f);
                float[] dxExpected = RandomArrays.gaussian(rng, n + 4, 1f), dxActual = dxExpected.clone();
                Softmax.backwardReference(expected, 1, dp, 3, dxExpected, 0, valid);
                Softmax.backward(expected, 1, dp, 3, dxActual, 0, valid);
                assertClose(dxExpected, dxActual, 1e-5, 1e-6, "softmax backward n=" + n);
            }
        }
    }

    @Test
    void softmaxReferenceBackwardIsTheDerivative() {
        Random rng = new Random(4);
        int n = 12, valid = 9;
        float[] x = RandomArrays.gaussian(rng, n, 2f), r = RandomArrays.gaussian(rng, n, 1f);
        float[] numeric = FiniteDifferences.gradient(v -> {
            float[] p = new float[n];
            Softmax.forwardReference(v, 0, p, 0, valid, n);
            return p;
        }, x, r, 1e-2f);
        float[] p = new float[n], analytic = new float[n];
        Softmax.forwardReference(x, 0, p, 0, valid, n);
        Softmax.backwardReference(p, 0, r, 0, analytic, 0, valid);
        assertClose(numeric, analytic, 2e-3, 2e-4, "softmax finite differences");
    }

    @Test
    void soluMatchesReferenceAndItsBackwardIsTheDerivative() {
        Random rng = new Random(5);
        for (int c : new int[] {1, 17, 64, 250}) {
            int n = 5;
            float[] x = RandomArrays.gaussian(rng, n * c, 2f), dy = RandomArrays.gaussian(rng, n * c, 1f);
            float[] expected = new float[n * c], actual = new float[n * c];
            Solu.forwardReference(x, expected, n, c);
            Solu.forward(x, actual, n, c);
            assertClose(expected, actual, 1e-5, 1e-7, "solu c=" + c);
            float[] dxExpected = new float[n * c], dxActual = new float[n * c];
            Solu.backwardReference(x, dy, dxExpected, n, c);
            Solu.backward(x, dy, dxActual, n, c);
            assertClose(dxExpected, dxActual, 1e-4, 1e-6, "solu backward c=" + c);
        }
        int n = 2, c = 10;
        float[] x = RandomArrays.gaussian(rng, n * c, 2f), r = RandomArrays.gaussian(rng, n * c, 1f);
        float[] numeric = FiniteDifferences.gradient(v -> {
            float[] y = new float[n * c];
            Solu.forwardReference(v, y, n, c);
            return y;
        }, x, r, 1e-2f);
        float[] analytic = new float[n * c];
        Solu.backwardReference(x, r, analytic, n, c);
        assertClose(numeric, analytic, 2e-3, 5e-4, "solu finite differences");
    }
}
