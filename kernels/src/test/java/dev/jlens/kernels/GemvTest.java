package dev.jlens.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The decoding GEMVs with float32 weights, and the per-head products of both weight types, against sums in double. */
class GemvTest {
    @Test
    void everyFloat32FormMatchesTheReference() {
        Random rng = new Random(3);
        for (Gemm.Op op : Gemm.Op.values()) {
            for (int m = 1; m <= Gemv.ROWS; m++) {
                // A head's width (64), narrow and odd widths, and one wider than a block of columns.
                for (int[] kn : new int[][] {{1, 1}, {17, 33}, {300, 64}, {768, 70}, {9, 16500}, {64, 3}}) {
                    int k = kn[0], n = kn[1], lda = k + 3, ldc = n + 2, ldb = (op == Gemm.Op.N ? n : k) + 5, bRows = op == Gemm.Op.N ? k : n;
                    float[] a = random(rng, 2 + m * lda), b = random(rng, 3 + bRows * ldb), c = random(rng, 1 + m * ldc), bias = random(rng, n + 4);
                    float[] expected = c.clone();
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double sum = c[1 + i * ldc + j] + bias[4 + j];
                            for (int p = 0; p < k; p++) sum += (double) a[2 + i * lda + p] * b[op == Gemm.Op.N ? 3 + p * ldb + j : 3 + j * ldb + p];
                            expected[1 + i * ldc + j] = (float) sum;
                        }
                    }
                    Gemv.gemv(op, m, n, k, a, 2, lda, b, 3, ldb, c, 1, ldc, true, bias, 4);
                    assertNear(expected, c, op + " m=" + m + " k=" + k + " n=" + n);
                }
            }
        }
    }

    @Test
    void eachHeadsProductAddsIntoItsColumns() {
        Random rng = new Random(4);
        for (int m = 1; m <= Gemv.ROWS; m++) {
            for (int dHead : new int[] {64, 7}) {
                int heads = 3, k = 40, lda = k + 1, ldc = heads * dHead + 5;
                float[] a = random(rng, m * lda), w = random(rng, heads * k * dHead), c = random(rng, m * ldc);
                float[] f32 = c.clone();
                Gemv.addEach(heads, m, dHead, k, a, 0, lda, w, 0, f32, 0, ldc);
                assertNear(eachHead(a, lda, w, c, ldc, m, heads, k, dHead), f32, "float32 m=" + m + " d_head=" + dHead);
                try (Arena arena = Arena.ofShared()) {
                    MemorySegment half = Half.BF16.narrow(w, arena);
                    float[] rounded = new float[w.length], bf16 = c.clone();
                    Half.BF16.widen(half, 0, rounded, 0, w.length);
                    Gemv.addEach(heads, m, dHead, k, a, 0, lda, Half.BF16, half, 0, bf16, 0, ldc);
                    assertNear(eachHead(a, lda, rounded, c, ldc, m, heads, k, dHead), bf16, "bf16 m=" + m + " d_head=" + dHead);
                }
            }
        }
    }

    /** c plus a·w[h] in columns h·dHead .., in double. */
    private static float[] eachHead(float[] a, int lda, float[] w, float[] c, int ldc, int m, int heads, int k, int dHead) {
        float[] out = c.clone();
        for (int i = 0; i < m; i++) for (int h = 0; h < heads; h++) for (int j = 0; j < dHead; j++) {
            double sum = c[i * ldc + h * dHead + j];
            for (int p = 0; p < k; p++) sum += (double) a[i * lda + p] * w[(h * k + p) * dHead + j];
            out[i * ldc + h * dHead + j] = (float) sum;
        }
        return out;
    }

    private static void assertNear(float[] expected, float[] actual, String what) {
        double scale = 0;
        for (float v : expected) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], 1e-5 * Math.max(1, scale), what + " at " + i);
    }

    private static float[] random(Random rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rng.nextDouble() * 2 - 1);
        return x;
    }
}
