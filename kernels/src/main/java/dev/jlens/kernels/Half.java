package dev.jlens.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two 16-bit float formats checkpoints store weights in, held as little-endian 16-bit values in
 * a {@link MemorySegment} (native memory, or the checkpoint file itself, mapped), as safetensors
 * lays them out. Widening to float32 is exact in both; narrowing rounds to nearest, ties to even,
 * as PyTorch's {@code .to(dtype)}.
 *
 * <ul>
 *   <li>{@link #BF16}: the top 16 bits of a float32 (8 exponent bits, 7 mantissa bits). Widening
 *       puts the 16 bits back on top of 16 zero bits.
 *   <li>{@link #F16}: IEEE binary16 (5 exponent bits, 10 mantissa bits). Widening moves exponent
 *       and mantissa up 13 bits and multiplies by 2^112, which rebiases the exponent and turns
 *       subnormals into the normal floats they stand for; infinities and NaNs are set apart (NaNs
 *       come out quiet, their payload kept).
 * </ul>
 *
 * Vectors widen {@link Simd#LANES} values at once: a short vector of as many lanes, sign-extended to
 * ints, then rearranged in integer lanes and read as floats.
 */
public enum Half {
    BF16, F16;

    static final VectorSpecies<Float> F = Simd.SPECIES;
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final ValueLayout.OfShort LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public float toFloat(short bits) {
        return this == BF16 ? Float.intBitsToFloat(bits << 16) : Float.float16ToFloat(bits);
    }

    /** Round to nearest, ties to even; NaN stays a (quiet) NaN. */
    public short fromFloat(float f) {
        if (this == F16) return Float.floatToFloat16(f);
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** The value at element {@code index} of {@code src}. */
    public float get(MemorySegment src, long index) {
        return toFloat(src.getAtIndex(LE, index));
    }

    /** Stores {@code value}, rounded, at element {@code index} of {@code dst}. */
    public void set(MemorySegment dst, long index, float value) {
        dst.setAtIndex(LE, index, fromFloat(value));
    }

    /** The index of the first infinite or NaN value among the first {@code n} of {@code src}, or −1. */
    public long firstNonFinite(MemorySegment src, long n) {
        short exponent = (short) (this == BF16 ? 0x7F80 : 0x7C00);
        long i = 0, bound = n - n % S.length();
        for (; i < bound; i += S.length()) {
            ShortVector s = ShortVector.fromMemorySegment(S, src, 2 * i, ByteOrder.LITTLE_ENDIAN);
            if (s.and(exponent).compare(VectorOperators.EQ, exponent).anyTrue()) break;
        }
        for (; i < n; i++) if ((src.getAtIndex(LE, i) & exponent) == exponent) return i;
        return -1;
    }

    /** {@link Simd#LANES} values from element {@code index} of {@code src}, as floats. */
    FloatVector widen(MemorySegment src, long index) {
        ShortVector s = ShortVector.fromMemorySegment(S, src, 2 * index, ByteOrder.LITTLE_ENDIAN);
        IntVector h = (IntVector) s.convertShape(VectorOperators.S2I, I, 0);
        if (this == BF16) return h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        IntVector magnitude = h.and(0x7FFF), shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
        IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = magnitude.compare(VectorOperators.GE, 0x7C00);
        // Infinities keep a zero mantissa; NaNs come out quiet, as the hardware conversion makes them.
        IntVector nonFinite = shifted.or(0x7F800000)
                .lanewise(VectorOperators.OR, 0x00400000, magnitude.compare(VectorOperators.GT, 0x7C00));
        IntVector bits = finite.blend(nonFinite, special);
        return bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /** dst[dOff + i] = src[sIndex + i] as float, for i in [0, n). */
    public void widen(MemorySegment src, long sIndex, float[] dst, int dOff, int n) {
        int i = 0, bound = F.loopBound(n);
        for (; i < bound; i += F.length()) widen(src, sIndex + i).intoArray(dst, dOff + i);
        for (; i < n; i++) dst[dOff + i] = get(src, sIndex + i);
    }

    /** dst[dIndex + i] = src[sOff + i] rounded to this format, for i in [0, n). */
    public void narrow(float[] src, int sOff, MemorySegment dst, long dIndex, int n) {
        for (int i = 0; i < n; i++) dst.setAtIndex(LE, dIndex + i, fromFloat(src[sOff + i]));
    }

    /** {@code src} rounded to this format, in native memory of {@code arena}. */
    public MemorySegment narrow(float[] src, Arena arena) {
        MemorySegment out = arena.allocate(2L * src.length, 64);
        narrow(src, 0, out, 0, src.length);
        return out;
    }

    /**
     * out[offset + j·rows + i] = in[offset + i·cols + j]: one rows × cols matrix of 16-bit values
     * transposed bit for bit, tile by tile so that reads and writes both stay within a few cache lines.
     */
    public static void transpose(MemorySegment in, MemorySegment out, long offset, int rows, int cols) {
        final int tile = 64;
        for (int i0 = 0; i0 < rows; i0 += tile) {
            int i1 = Math.min(rows, i0 + tile);
            for (int j0 = 0; j0 < cols; j0 += tile) {
                int j1 = Math.min(cols, j0 + tile);
                for (int i = i0; i < i1; i++) {
                    for (int j = j0; j < j1; j++) {
                        out.setAtIndex(LE, offset + (long) j * rows + i, in.getAtIndex(LE, offset + (long) i * cols + j));
                    }
                }
            }
        }
    }
}
