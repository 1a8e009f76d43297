package dev.jlens.kernels;

import java.util.function.Function;

/**
 * Central finite differences of L(x) = Σ r·f(x) with a fixed random r, so dL/dy = r is the
 * upstream gradient a backward receives. The sum is taken in double.
 */
final class FiniteDifference {
    private FiniteDifference() {}

    static float[] gradient(Function<float[], float[]> f, float[] x, float[] r, float h) {
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

    private static double weighted(float[] y, float[] r) {
        double sum = 0;
        for (int i = 0; i < y.length; i++) sum += (double) y[i] * r[i];
        return sum;
    }
}
