package dev.jlens.testkit;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;
import java.util.function.Function;

/**
 * Central finite differences in double, against a backward's analytic gradient. The loss is
 * L = Σ r·f(x) for a fixed random r (so a backward receives dL/dy = r), computed by the float32
 * forward and summed in double.
 */
public final class FiniteDifferences {
    private FiniteDifferences() {}

    /** dL/dx for L(x) = Σ r·f(x), by plain central differences with step h (for scalar references computed in double). */
    public static float[] gradient(Function<float[], float[]> f, float[] x, float[] r, float h) {
        float[] grad = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            float saved = x[i];
            x[i] = saved + h;
            double plus = weighted(f.apply(x), r);
            x[i] = saved - h;
            double minus = weighted(f.apply(x), r);
            x[i] = saved;
            grad[i] = (float) ((plus - minus) / (2.0 * h));
        }
        return grad;
    }

    /** Σ y·r in double. */
    public static double weighted(float[] y, float[] r) {
        double sum = 0;
        for (int i = 0; i < y.length; i++) sum += (double) y[i] * r[i];
        return sum;
    }

    /**
     * Checks {@code analytic} against finite differences of {@code loss} with respect to each entry
     * of {@code values} (perturbed in place). Richardson extrapolation of the differences at steps h
     * and h/2 cancels the O(h²) truncation term, so h can be large enough that the float32 forward's
     * rounding, divided by h, stays small.
     */
    public static void check(String what, float[] values, float[] analytic, int[] entries, float step, DoubleSupplier loss,
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

    /** 0, 1, ..., n − 1. */
    public static int[] all(int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = i;
        return out;
    }
}
