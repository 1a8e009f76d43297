package dev.jlens.models;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;

/**
 * Central finite differences of a scalar loss (computed by a float32 forward, accumulated in
 * double) against a backward's analytic gradient, entry by entry. Richardson extrapolation of the
 * differences at steps h and h/2 cancels the O(h²) truncation term, so h can be large enough that
 * the float32 forward's rounding, divided by h, stays small.
 */
final class FiniteDifferences {
    private FiniteDifferences() {}

    static void check(String what, float[] values, float[] analytic, int[] entries, float step, DoubleSupplier loss,
                      double rtol, double atol) {
        List<String> failures = new ArrayList<>();
        for (int i : entries) {
            double numeric = (4 * central(values, i, step / 2, loss) - central(values, i, step, loss)) / 3;
            double err = Math.abs(numeric - analytic[i]);
            if (!(err <= atol + rtol * Math.abs(numeric))) {
                failures.add(String.format("%s[%d]: backward %.6g, finite difference %.6g", what, i, analytic[i], numeric));
            }
        }
        if (!failures.isEmpty()) fail(failures.size() + " of " + entries.length + " entries differ:\n" + String.join("\n", failures));
    }

    private static double central(float[] values, int i, float step, DoubleSupplier loss) {
        float saved = values[i];
        values[i] = saved + step;
        double plus = loss.getAsDouble();
        values[i] = saved - step;
        double minus = loss.getAsDouble();
        values[i] = saved;
        // The step actually taken, after rounding saved ± step to float.
        return (plus - minus) / ((double) (saved + step) - (double) (saved - step));
    }

    static int[] all(int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = i;
        return out;
    }
}
