package dev.jlens.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API primitives every other kernel builds on: the species is chosen once (the
 * machine's preferred width: 16 floats with AVX-512, 8 with AVX2), each loop runs to
 * {@code loopBound} with vector lanes and finishes with a scalar tail.
 *
 * <p>Vectors never cross a method boundary that the JIT might not inline: a vector passed to a
 * helper that is not inlined gets boxed, which costs more than the arithmetic.
 */
public final class Simd {
    public static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    public static final int LANES = SPECIES.length();

    private Simd() {}

    /**
     * The sum of a vector's lanes, added in lane order. Not reduceLanes(ADD): C2 adds the lanes as a
     * tree and the interpreter in order, and float addition is not associative, so a value would
     * change once the code is compiled.
     */
    public static float sumLanes(FloatVector v) {
        float[] lanes = v.toArray();
        float sum = 0;
        for (float lane : lanes) sum += lane;
        return sum;
    }

    /** Σ a[ao+i]·b[bo+i] for i in [0, n). */
    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0, bound = SPECIES.loopBound(n);
        FloatVector acc = FloatVector.zero(SPECIES);
        for (; i < bound; i += LANES) {
            acc = FloatVector.fromArray(SPECIES, a, ao + i).fma(FloatVector.fromArray(SPECIES, b, bo + i), acc);
        }
        float sum = sumLanes(acc);
        for (; i < n; i++) sum += a[ao + i] * b[bo + i];
        return sum;
    }

    /** y[yo+i] += alpha·x[xo+i] for i in [0, n). */
    public static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0, bound = SPECIES.loopBound(n);
        FloatVector va = FloatVector.broadcast(SPECIES, alpha);
        for (; i < bound; i += LANES) {
            FloatVector.fromArray(SPECIES, x, xo + i).fma(va, FloatVector.fromArray(SPECIES, y, yo + i))
                    .intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }

    /** y[yo+i] += x[xo+i] for i in [0, n). */
    public static void add(float[] x, int xo, float[] y, int yo, int n) {
        int i = 0, bound = SPECIES.loopBound(n);
        for (; i < bound; i += LANES) {
            FloatVector.fromArray(SPECIES, x, xo + i).add(FloatVector.fromArray(SPECIES, y, yo + i))
                    .intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += x[xo + i];
    }

    /** out[oo+i] = a[ao+i]·b[bo+i] for i in [0, n). */
    public static void mul(float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        int i = 0, bound = SPECIES.loopBound(n);
        for (; i < bound; i += LANES) {
            FloatVector.fromArray(SPECIES, a, ao + i).mul(FloatVector.fromArray(SPECIES, b, bo + i)).intoArray(out, oo + i);
        }
        for (; i < n; i++) out[oo + i] = a[ao + i] * b[bo + i];
    }

    /** x[xo+i] *= alpha for i in [0, n). */
    public static void scale(float[] x, int xo, float alpha, int n) {
        int i = 0, bound = SPECIES.loopBound(n);
        for (; i < bound; i += LANES) {
            FloatVector.fromArray(SPECIES, x, xo + i).mul(alpha).intoArray(x, xo + i);
        }
        for (; i < n; i++) x[xo + i] *= alpha;
    }

    /** Σ x[xo+i] for i in [0, n). */
    public static float sum(float[] x, int xo, int n) {
        int i = 0, bound = SPECIES.loopBound(n);
        FloatVector acc = FloatVector.zero(SPECIES);
        for (; i < bound; i += LANES) acc = acc.add(FloatVector.fromArray(SPECIES, x, xo + i));
        float sum = sumLanes(acc);
        for (; i < n; i++) sum += x[xo + i];
        return sum;
    }

    /** max x[xo+i] for i in [0, n), n ≥ 1. */
    public static float max(float[] x, int xo, int n) {
        int i = 0, bound = SPECIES.loopBound(n);
        float max = Float.NEGATIVE_INFINITY;
        if (bound > 0) {
            FloatVector acc = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += LANES) acc = acc.max(FloatVector.fromArray(SPECIES, x, xo + i));
            max = acc.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) max = Math.max(max, x[xo + i]);
        return max;
    }
}
