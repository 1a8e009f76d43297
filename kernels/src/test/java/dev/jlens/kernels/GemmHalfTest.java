package dev.jlens.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** 16-bit weights: conversions exact or correctly rounded, and every matmul regime against a scalar double reference. */
class GemmHalfTest {
    @Test
    void bf16RoundsToNearestEven() {
        Half h = Half.BF16;
        assertEquals(1.0f, h.toFloat(h.fromFloat(1.0f)));
        assertEquals(Float.intBitsToFloat(0x3F820000), h.toFloat(h.fromFloat(Float.intBitsToFloat(0x3F818000))), "a tie after an odd last bit rounds up, to even");
        assertEquals(Float.intBitsToFloat(0x3F800000), h.toFloat(h.fromFloat(Float.intBitsToFloat(0x3F808000))), "a tie after an even last bit rounds down");
        assertEquals(Float.intBitsToFloat(0x3F810000), h.toFloat(h.fromFloat(Float.intBitsToFloat(0x3F808001))), "above the tie rounds up");
        assertEquals(Float.POSITIVE_INFINITY, h.toFloat(h.fromFloat(Float.POSITIVE_INFINITY)));
        assertEquals(Float.NaN, h.toFloat(h.fromFloat(Float.NaN)));
    }

    @Test
    void f16RoundsToNearestEvenWithSubnormalsAndOverflow() {
        Half h = Half.F16;
        assertEquals(1.0f + 0x1p-10f, h.toFloat(h.fromFloat(1.0f + 0x1p-10f)));
        assertEquals(1.0f, h.toFloat(h.fromFloat(1.0f + 0x1p-11f)), "a tie after an even last bit rounds down");
        assertEquals(0x1p-24f, h.toFloat(h.fromFloat(0x1p-24f)), "the smallest subnormal");
        assertEquals(Float.POSITIVE_INFINITY, h.toFloat(h.fromFloat(70000f)), "past 65504 overflows");
        assertEquals(-0.0f, h.toFloat(h.fromFloat(-0.0f)));
    }

    /** The vector widening against the scalar one on all 65,536 bit patterns of each format, bit for bit. */
    @Test
    void vectorWideningMatchesScalarOnEveryBitPattern() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment all = arena.allocate(2 * 65536 + 6);
            for (int bits = 0; bits < 65536; bits++) all.setAtIndex(Half.LE, 3 + bits, (short) bits);
            for (Half h : Half.values()) {
                float[] wide = new float[65536 + 5];
                h.widen(all, 3, wide, 5, 65536);
                for (int bits = 0; bits < 65536; bits++) {
                    float expected = h.toFloat((short) bits);
                    String where = h + " bits 0x" + Integer.toHexString(bits);
                    // NaNs: whether a signalling NaN is quietened differs between the JDK's scalar paths.
                    if (Float.isNaN(expected)) assertTrue(Float.isNaN(wide[5 + bits]), where);
                    else assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(wide[5 + bits]), where);
                }
            }
        }
    }

    @Test
    void everyRegimeMatchesTheScalarReference() {
        Random rng = new Random(7);
        for (Half h : Half.values()) {
            for (Gemm.Op op : Gemm.Op.values()) {
                for (int m : new int[] {1, 3, 4, 5, 37}) {
                    // Widths of one head (64) and of whole models' rows too.
                    for (int[] kn : new int[][] {{1, 1}, {17, 33}, {300, 70}, {64, 1}, {513, 129}, {5, 32}, {300, 64}, {37, 96}, {70, 2048}, {9, 4097}, {6, 16500}}) {
                        check(rng, h, op, m, kn[0], kn[1], false, false);
                        check(rng, h, op, m, kn[0], kn[1], true, true);
                    }
                }
            }
        }
    }

    /** Operands inside larger arrays (offsets, leading dimensions wider than the matrix), against sums in double. */
    private static void check(Random rng, Half h, Gemm.Op op, int m, int k, int n, boolean accumulate, boolean withBias) {
        int lda = k + 3, ldc = n + 2, ldb = (op == Gemm.Op.N ? n : k) + 5, bRows = op == Gemm.Op.N ? k : n;
        float[] a = random(rng, 2 + m * lda), c = random(rng, 1 + m * ldc), bias = withBias ? random(rng, n + 4) : null;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment b = h.narrow(random(rng, 3 + bRows * ldb), arena);
            float[] expected = c.clone();
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = accumulate ? c[1 + i * ldc + j] : 0;
                    if (withBias) sum += bias[4 + j];
                    for (int p = 0; p < k; p++) {
                        float w = h.get(b, op == Gemm.Op.N ? 3 + p * ldb + j : 3 + j * ldb + p);
                        sum += (double) a[2 + i * lda + p] * w;
                    }
                    expected[1 + i * ldc + j] = (float) sum;
                }
            }
            GemmHalf.gemm(op, m, n, k, a, 2, lda, h, b, 3, ldb, c, 1, ldc, accumulate, bias, 4);
            double scale = 0;
            for (float v : expected) scale = Math.max(scale, Math.abs(v));
            for (int i = 0; i < c.length; i++) {
                assertEquals(expected[i], c[i], 1e-5 * Math.max(1, scale), h + " " + op + " m=" + m + " k=" + k + " n=" + n + " at " + i);
            }
        }
    }

    private static float[] random(Random rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rng.nextDouble() * 2 - 1);
        return x;
    }
}
