package dev.jlens.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * GELU, elementwise, in the two forms models use:
 * <ul>
 *   <li>{@link Kind#TANH}, Hugging Face's {@code gelu_new} (GPT-2): ½x(1 + tanh(√(2/π)(x + 0.044715x³)));
 *   <li>{@link Kind#ERF}, the exact {@code gelu} (GPT-NeoX): x·Φ(x) = ½x·erfc(−x/√2).
 * </ul>
 * Φ is computed through erfc with a Chebyshev fit whose relative error is below 1.2e-7 for every
 * argument (see {@link #erfc}), so even the tiny negative tail of GELU keeps float precision.
 */
public final class Gelu {
    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int L = Simd.LANES;
    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2 / Math.PI);
    private static final float INV_SQRT_2 = (float) (1 / Math.sqrt(2));
    private static final float INV_SQRT_2PI = (float) (1 / Math.sqrt(2 * Math.PI));
    private static final float CUBIC = 0.044715f;
    private static final int CHUNK = 8192;
    private static final VectorMask<Float> ALL = S.maskAll(true);

    /** Which GELU. */
    public enum Kind {
        TANH, ERF
    }

    private Gelu() {}

    // Every element goes through the same vector code, the last partial vector under a mask: an
    // element's value must not depend on how long the array around it is (a batch's size, say).

    /** y = gelu(x) over n elements. */
    public static void forward(Kind kind, float[] x, float[] y, int n) {
        Parallel.forEach(Gemm.ceilDiv(n, CHUNK), t -> {
            int from = t * CHUNK, to = Math.min(n, from + CHUNK);
            if (kind == Kind.TANH) tanhForward(x, y, from, to);
            else erfForward(x, y, from, to);
        });
    }

    /** dx += gelu'(x)·dy over n elements. */
    public static void backward(Kind kind, float[] x, float[] dy, float[] dx, int n) {
        Parallel.forEach(Gemm.ceilDiv(n, CHUNK), t -> {
            int from = t * CHUNK, to = Math.min(n, from + CHUNK);
            if (kind == Kind.TANH) tanhBackward(x, dy, dx, from, to);
            else erfBackward(x, dy, dx, from, to);
        });
    }

    // gelu_new as x·σ(2u), u = √(2/π)(x + 0.044715x³): ½(1 + tanh u) = σ(2u) = 1/(1 + e^(−2u)) with no
    // cancellation where tanh u → −1, so the negative tail keeps its relative precision.

    private static void tanhForward(float[] x, float[] y, int from, int to) {
        int bound = from + S.loopBound(to - from);
        for (int i = from; i < to; i += L) {
            VectorMask<Float> m = i < bound ? ALL : S.indexInRange(i, to);
            FloatVector v = FloatVector.fromArray(S, x, i, m);
            FloatVector u = v.mul(v).mul(v).mul(CUBIC).add(v).mul(SQRT_2_OVER_PI);
            FloatVector e = VectorMath.exp(u.mul(-2f));
            v.div(e.add(1f)).intoArray(y, i, m);
        }
    }

    /** d/dx x·σ(2u) = σ + 2x·σ·(1 − σ)·u′, with 1 − σ = e·σ for e = e^(−2u). */
    private static void tanhBackward(float[] x, float[] dy, float[] dx, int from, int to) {
        int bound = from + S.loopBound(to - from);
        for (int i = from; i < to; i += L) {
            VectorMask<Float> m = i < bound ? ALL : S.indexInRange(i, to);
            FloatVector v = FloatVector.fromArray(S, x, i, m);
            FloatVector v2 = v.mul(v);
            FloatVector u = v2.mul(v).mul(CUBIC).add(v).mul(SQRT_2_OVER_PI);
            FloatVector e = VectorMath.exp(u.mul(-2f));
            FloatVector sigma = FloatVector.broadcast(S, 1f).div(e.add(1f));
            FloatVector du = v2.mul(3 * CUBIC).add(1f).mul(SQRT_2_OVER_PI);
            FloatVector grad = v.mul(2f).mul(sigma).mul(e.mul(sigma)).mul(du).add(sigma);
            grad.fma(FloatVector.fromArray(S, dy, i, m), FloatVector.fromArray(S, dx, i, m)).intoArray(dx, i, m);
        }
    }

    private static void erfForward(float[] x, float[] y, int from, int to) {
        int bound = from + S.loopBound(to - from);
        for (int i = from; i < to; i += L) {
            VectorMask<Float> m = i < bound ? ALL : S.indexInRange(i, to);
            FloatVector v = FloatVector.fromArray(S, x, i, m);
            v.mul(cdf(v)).intoArray(y, i, m);
        }
    }

    private static void erfBackward(float[] x, float[] dy, float[] dx, int from, int to) {
        int bound = from + S.loopBound(to - from);
        for (int i = from; i < to; i += L) {
            VectorMask<Float> m = i < bound ? ALL : S.indexInRange(i, to);
            FloatVector v = FloatVector.fromArray(S, x, i, m);
            FloatVector pdf = VectorMath.exp(v.mul(v).mul(-0.5f)).mul(INV_SQRT_2PI);
            FloatVector grad = v.fma(pdf, cdf(v));
            grad.fma(FloatVector.fromArray(S, dy, i, m), FloatVector.fromArray(S, dx, i, m)).intoArray(dx, i, m);
        }
    }

    /** Φ(v) = ½·erfc(−v/√2), lane-wise, with {@link #erfc}'s fit. */
    private static FloatVector cdf(FloatVector v) {
        FloatVector z = v.mul(-INV_SQRT_2);
        FloatVector az = z.abs();
        FloatVector t = az.mul(0.5f).add(1f);
        t = FloatVector.broadcast(S, 1f).div(t);
        FloatVector poly = t.mul(0.17087277f).add(-0.82215223f);
        poly = poly.mul(t).add(1.48851587f);
        poly = poly.mul(t).add(-1.13520398f);
        poly = poly.mul(t).add(0.27886807f);
        poly = poly.mul(t).add(-0.18628806f);
        poly = poly.mul(t).add(0.09678418f);
        poly = poly.mul(t).add(0.37409196f);
        poly = poly.mul(t).add(1.00002368f);
        poly = poly.mul(t).add(-1.26551223f);
        FloatVector erfcAbs = t.mul(VectorMath.exp(az.mul(az).neg().add(poly)));
        // erfc(z) for z < 0 is 2 − erfc(|z|).
        FloatVector erfcZ = erfcAbs.neg().add(2f).blend(erfcAbs, z.compare(VectorOperators.GE, 0f));
        return erfcZ.mul(0.5f);
    }

    /**
     * erfc(z) by the Chebyshev fit of Press et al., Numerical Recipes §6.2 ({@code erfcc}):
     * relative error below 1.2e-7 for every z, which float computation cannot tell apart.
     */
    public static double erfc(double z) {
        double az = Math.abs(z);
        double t = 1.0 / (1.0 + 0.5 * az);
        double poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
        double r = t * Math.exp(-az * az + poly);
        return z >= 0 ? r : 2.0 - r;
    }

    public static void forwardReference(Kind kind, float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) {
            double v = x[i];
            y[i] = (float) (kind == Kind.TANH
                    ? 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)))
                    : v * 0.5 * erfc(-v / Math.sqrt(2)));
        }
    }

    public static void backwardReference(Kind kind, float[] x, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i++) {
            double v = x[i], grad;
            if (kind == Kind.TANH) {
                double th = Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v));
                grad = 0.5 * (1 + th) + 0.5 * v * (1 - th * th) * Math.sqrt(2 / Math.PI) * (1 + 3 * 0.044715 * v * v);
            } else {
                grad = 0.5 * erfc(-v / Math.sqrt(2)) + v * Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
            }
            dx[i] += (float) (dy[i] * grad);
        }
    }
}
