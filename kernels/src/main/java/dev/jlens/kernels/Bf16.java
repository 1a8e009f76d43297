package dev.jlens.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * bfloat16: the top 16 bits of a float32 (sign, 8 exponent bits, 7 mantissa bits), as today's
 * checkpoints store weights. Widening is exact (the 16 bits go back on top of 16 zero bits);
 * narrowing rounds to the nearest bf16, ties to even, as PyTorch's {@code .to(torch.bfloat16)}.
 * Vectors widen {@link Simd#LANES} values at once: a short vector of as many lanes, sign-extended
 * to ints (the extension is shifted out), moved up 16 bits and read as floats.
 */
public final class Bf16 {
    static final VectorSpecies<Float> F = Simd.SPECIES;
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, jdk.incubator.vector.VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

    private Bf16() {}

    public static float toFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /** Round to nearest, ties to even; NaN stays a (quiet) NaN. */
    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** {@link Simd#LANES} bf16 values from {@code src[off]} as floats. */
    static FloatVector widen(short[] src, int off) {
        ShortVector s = ShortVector.fromArray(S, src, off);
        IntVector i = (IntVector) s.convertShape(VectorOperators.S2I, I, 0);
        return i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** dst[dOff + i] = src[sOff + i] as float, for i in [0, n). */
    public static void widen(short[] src, int sOff, float[] dst, int dOff, int n) {
        int i = 0, bound = F.loopBound(n);
        for (; i < bound; i += F.length()) widen(src, sOff + i).intoArray(dst, dOff + i);
        for (; i < n; i++) dst[dOff + i] = toFloat(src[sOff + i]);
    }

    /** Every value of {@code src} rounded to bf16. */
    public static short[] narrow(float[] src) {
        short[] out = new short[src.length];
        for (int i = 0; i < src.length; i++) out[i] = fromFloat(src[i]);
        return out;
    }
}
