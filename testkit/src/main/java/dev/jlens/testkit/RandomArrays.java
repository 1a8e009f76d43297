package dev.jlens.testkit;

import java.util.Random;

/** Random test inputs. */
public final class RandomArrays {
    private RandomArrays() {}

    /** n values drawn from N(0, scale²). */
    public static float[] gaussian(Random rng, int n, float scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rng.nextGaussian() * scale);
        return x;
    }
}
