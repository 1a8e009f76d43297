package dev.jlens.kernels;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;

/** Random inputs and tolerant comparison for kernel tests. */
final class Arrays2 {
    private Arrays2() {}

    static float[] random(Random rng, int n, float scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rng.nextGaussian() * scale);
        return x;
    }

    /** Fails with the worst index when |a − e| > atol + rtol·|e| anywhere. */
    static void assertClose(float[] expected, float[] actual, double rtol, double atol, String what) {
        if (expected.length != actual.length) fail(what + ": length " + actual.length + " != " + expected.length);
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs((double) actual[i] - expected[i]);
            double allowed = atol + rtol * Math.abs(expected[i]);
            boolean bothInfinite = Float.isInfinite(expected[i]) && expected[i] == actual[i];
            if (!bothInfinite && (Double.isNaN(err) || err > allowed) && (Double.isNaN(err) || err - allowed > worstExcess)) {
                worst = i;
                worstExcess = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err - allowed;
            }
        }
        if (worst >= 0) {
            fail(what + ": at " + worst + " expected " + expected[worst] + " but was " + actual[worst]);
        }
    }
}
