package dev.jlens.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** bf16 weights: conversions exact or correctly rounded, and every matmul regime against a scalar double reference. */
class GemmBf16Test {
    @Test
    void conversionsRoundToNearestEvenAndWidenExactly() {
        assertEquals(1.0f, Bf16.toFloat(Bf16.fromFloat(1.0f)));
        assertEquals(Float.intBitsToFloat(0x3F820000), Bf16.toFloat(Bf16.fromFloat(Float.intBitsToFloat(0x3F818000))), "a tie after an odd last bit rounds up, to even");
        assertEquals(Float.intBitsToFloat(0x3F800000), Bf16.toFloat(Bf16.fromFloat(Float.intBitsToFloat(0x3F808000))), "a tie after an even last bit rounds down");
        assertEquals(Float.intBitsToFloat(0x3F810000), Bf16.toFloat(Bf16.fromFloat(Float.intBitsToFloat(0x3F808001))), "above the tie rounds up");
        assertEquals(Float.POSITIVE_INFINITY, Bf16.toFloat(Bf16.fromFloat(Float.POSITIVE_INFINITY)));
        assertEquals(Float.NaN, Bf16.toFloat(Bf16.fromFloat(Float.NaN)));
        Random rng = new Random(1);
        short[] bits = new short[1003];
        for (int i = 0; i < bits.length; i++) bits[i] = (short) rng.nextInt();
        float[] wide = new float[bits.length + 5];
        Bf16.widen(bits, 0, wide, 5, bits.length);
        for (int i = 0; i < bits.length; i++) {
            assertEquals(Float.floatToRawIntBits(Bf16.toFloat(bits[i])), Float.floatToRawIntBits(wide[5 + i]), "lane " + i);
        }
    }

    @Test
    void everyRegimeMatchesTheScalarReference() {
        Random rng = new Random(7);
        for (Gemm.Op op : Gemm.Op.values()) {
            for (int m : new int[] {1, 3, 4, 5, 37}) {
                for (int[] kn : new int[][] {{1, 1}, {17, 33}, {300, 70}, {64, 1}, {513, 129}}) {
                    check(rng, op, m, kn[0], kn[1], false, false);
                    check(rng, op, m, kn[0], kn[1], true, true);
                }
            }
        }
    }

    /** Operands inside larger arrays (offsets, leading dimensions wider than the matrix), against sums in double. */
    private static void check(Random rng, Gemm.Op op, int m, int k, int n, boolean accumulate, boolean withBias) {
        int lda = k + 3, ldc = n + 2, ldb = (op == Gemm.Op.N ? n : k) + 5, bRows = op == Gemm.Op.N ? k : n;
        float[] a = random(rng, 2 + m * lda), c = random(rng, 1 + m * ldc), bias = withBias ? random(rng, n + 4) : null;
        short[] b = Bf16.narrow(random(rng, 3 + bRows * ldb));
        float[] expected = c.clone();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = accumulate ? c[1 + i * ldc + j] : 0;
                if (withBias) sum += bias[4 + j];
                for (int p = 0; p < k; p++) {
                    short w = op == Gemm.Op.N ? b[3 + p * ldb + j] : b[3 + j * ldb + p];
                    sum += (double) a[2 + i * lda + p] * Bf16.toFloat(w);
                }
                expected[1 + i * ldc + j] = (float) sum;
            }
        }
        GemmBf16.gemm(op, m, n, k, a, 2, lda, b, 3, ldb, c, 1, ldc, accumulate, bias, 4);
        double scale = 0;
        for (float v : expected) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < c.length; i++) {
            assertEquals(expected[i], c[i], 1e-5 * Math.max(1, scale), op + " m=" + m + " k=" + k + " n=" + n + " at " + i);
        }
    }

    private static float[] random(Random rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rng.nextDouble() * 2 - 1);
        return x;
    }
}
