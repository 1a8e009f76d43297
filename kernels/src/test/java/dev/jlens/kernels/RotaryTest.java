package dev.jlens.kernels;

import static dev.jlens.testkit.Close.assertClose;

import dev.jlens.testkit.FiniteDifferences;
import dev.jlens.testkit.RandomArrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RotaryTest {
    @Test
    void forwardMatchesTheRotationMatrixReference() {
        Random rng = new Random(1);
        int b = 2, t = 11, h = 3;
        for (int[] dims : new int[][] {{16, 4}, {16, 16}, {64, 16}, {10, 2}}) {
            int d = dims[0], rotaryDim = dims[1];
            Rotary.Table table = Rotary.Table.of(rotaryDim, 32, 10000);
            float[] x = RandomArrays.gaussian(rng, b * t * h * d, 1f);
            float[] expected = new float[x.length], actual = new float[x.length];
            Rotary.forwardReference(rotaryDim, 10000, x, expected, b, t, h, d);
            Rotary.forward(table, x, actual, b, t, h, d);
            assertClose(expected, actual, 1e-5, 1e-6, "d=" + d + " rotary=" + rotaryDim);
        }
    }

    /** A row given its own position (left padding, a KV cache) turns as the row at that index of a plain sequence does. */
    @Test
    void rowsTurnByTheirOwnPositions() {
        Random rng = new Random(3);
        int b = 2, t = 3, h = 2, d = 8, rotaryDim = 6, nCtx = 40;
        Rotary.Table table = Rotary.Table.of(rotaryDim, nCtx, 10000);
        int[] positions = {0, 7, 8, 39, 0, 12};
        float[] x = RandomArrays.gaussian(rng, b * t * h * d, 1f), y = new float[x.length];
        Rotary.forward(table, x, y, positions, b, t, h, d);
        int width = h * d;
        for (int row = 0; row < b * t; row++) {
            int p = positions[row];
            float[] sequence = new float[(p + 1) * width], expected = new float[sequence.length];
            System.arraycopy(x, row * width, sequence, p * width, width);
            Rotary.forwardReference(rotaryDim, 10000, sequence, expected, 1, p + 1, h, d);
            assertClose(java.util.Arrays.copyOfRange(expected, p * width, (p + 1) * width),
                    java.util.Arrays.copyOfRange(y, row * width, (row + 1) * width), 1e-5, 1e-6, "row " + row + " at position " + p);
        }
    }

    @Test
    void backwardIsTheDerivative() {
        Random rng = new Random(2);
        int b = 1, t = 5, h = 2, d = 8, rotaryDim = 4;
        Rotary.Table table = Rotary.Table.of(rotaryDim, t, 10000);
        float[] x = RandomArrays.gaussian(rng, b * t * h * d, 1f), r = RandomArrays.gaussian(rng, x.length, 1f);
        float[] numeric = FiniteDifferences.gradient(v -> {
            float[] y = new float[v.length];
            Rotary.forwardReference(rotaryDim, 10000, v, y, b, t, h, d);
            return y;
        }, x, r, 1e-2f);
        float[] analytic = new float[x.length];
        Rotary.backward(table, r, analytic, b, t, h, d);
        assertClose(numeric, analytic, 1e-3, 1e-4, "rotary finite differences");
    }
}
