package dev.jlens.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp over vector lanes, built from additions, multiplications, fused multiply-adds and bit
 * manipulation only. The Vector API's own EXP gives results that differ by an ulp between
 * the interpreter (a Java fallback) and C2 (a vectorised library), so a value could change as a
 * run warms up; IEEE basic operations round the same in every tier, so these are reproducible to
 * the bit, which resumed, batched and hooked runs rely on.
 */
public final class VectorMath {
    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split in two, so that n·ln2 is subtracted without rounding error (Cody and Waite). */
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** 1.5·2^23: adding and subtracting it rounds a float to the nearest integer. */
    private static final float ROUND = 12582912f;
    private static final float EXP_MAX = 88.3f, EXP_MIN = -87.3f;

    private VectorMath() {}

    /**
     * e^x to within about 2 ulp for x in [−87.3, 88.3]; arguments outside are clamped (so results
     * stay finite and normal: about 1.2e-38 at the bottom).
     */
    public static FloatVector exp(FloatVector x) {
        FloatVector v = x.max(EXP_MIN).min(EXP_MAX);
        FloatVector n = v.mul(LOG2E).add(ROUND).sub(ROUND); // round(x / ln 2)
        FloatVector r = n.mul(-LN2_HI).add(v);
        r = n.mul(-LN2_LO).add(r);
        // e^r on |r| ≤ ln2/2: Taylor to degree 7 (truncation below 1e-8 relative)
        FloatVector p = FloatVector.broadcast(S, 1f / 5040);
        p = p.fma(r, FloatVector.broadcast(S, 1f / 720));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 120));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 24));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 6));
        p = p.fma(r, FloatVector.broadcast(S, 0.5f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        // 2^n from its exponent bits
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats());
    }
}
