package dev.jlens.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Closeness of float arrays, in the two forms jlens's tests compare results. */
public final class Close {
    private Close() {}

    /** Fails naming the worst index when |actual − expected| > atol + rtol·|expected| anywhere (equal infinities pass). */
    public static void assertClose(float[] expected, float[] actual, double rtol, double atol, String what) {
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
        if (worst >= 0) fail(what + ": at " + worst + " expected " + expected[worst] + " but was " + actual[worst]);
    }

    /**
     * The largest difference at most {@code tolerance} times the largest magnitude of {@code expected}:
     * for results of one computation done two ways (two backends), where small entries carry the
     * rounding of large ones. Infinities and NaNs must match exactly.
     */
    public static void assertCloseToScale(float[] expected, float[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double largest = 0, worst = 0;
        for (int i = 0; i < expected.length; i++) {
            if (Float.isInfinite(expected[i]) || Float.isNaN(expected[i]) || Float.isNaN(actual[i])) {
                assertEquals(expected[i], actual[i], what + " at " + i);
                continue;
            }
            largest = Math.max(largest, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        if (worst > tolerance * largest) fail(what + ": largest difference " + worst + " against largest magnitude " + largest);
    }
}
