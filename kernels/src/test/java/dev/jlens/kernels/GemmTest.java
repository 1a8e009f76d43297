package dev.jlens.kernels;

import static dev.jlens.testkit.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.kernels.Gemm.Op;
import dev.jlens.testkit.RandomArrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class GemmTest {
    /** Sizes around the vector width, the micro-tile and the packing blocks, plus odd ones. */
    private static final int[][] SHAPES = {
            {1, 1, 1}, {3, 5, 7}, {8, 32, 16}, {9, 33, 17}, {17, 15, 31}, {64, 64, 64},
            {100, 300, 70}, {7, 513, 260}, {200, 45, 1030}, {33, 1100, 5}, {250, 129, 257},
    };

    @ParameterizedTest
    @EnumSource(Form.class)
    void everyFormMatchesTheReferenceOnAwkwardShapes(Form form) {
        Random rng = new Random(42);
        for (int[] shape : SHAPES) {
            int m = shape[0], k = shape[1], n = shape[2];
            for (boolean accumulate : new boolean[] {false, true}) {
                for (boolean withBias : new boolean[] {false, true}) {
                    check(rng, form, m, n, k, accumulate, withBias);
                }
            }
        }
    }

    private static void check(Random rng, Form form, int m, int n, int k, boolean accumulate, boolean withBias) {
        // Leading dimensions wider than the matrix and non-zero offsets: strided views must work.
        int pad = 3, off = 5;
        int aRows = form.opA == Op.N ? m : k, aCols = form.opA == Op.N ? k : m;
        int bRows = form.opB == Op.N ? k : n, bCols = form.opB == Op.N ? n : k;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        float[] a = RandomArrays.gaussian(rng, off + aRows * lda, 1f);
        float[] b = RandomArrays.gaussian(rng, off + bRows * ldb, 1f);
        float[] bias = withBias ? RandomArrays.gaussian(rng, n + 2, 1f) : null;
        float[] c0 = RandomArrays.gaussian(rng, off + m * ldc, 1f);
        float[] expected = c0.clone(), actual = c0.clone();
        Gemm.gemmReference(form.opA, form.opB, m, n, k, a, off, lda, b, off, ldb, expected, off, ldc, accumulate, bias, 2);
        Gemm.gemm(form.opA, form.opB, m, n, k, a, off, lda, b, off, ldb, actual, off, ldc, accumulate, bias, 2);
        String what = form + " " + m + "x" + k + "x" + n + (accumulate ? " accumulate" : "") + (withBias ? " bias" : "");
        assertClose(expected, actual, 1e-4, 1e-4 * Math.sqrt(k), what);

        float[] serial = c0.clone();
        if (!withBias) {
            Gemm.gemmSerial(form.opA, form.opB, m, n, k, a, off, lda, b, off, ldb, serial, off, ldc, accumulate);
            assertClose(expected, serial, 1e-4, 1e-4 * Math.sqrt(k), what + " serial");
        }
    }

    @Test
    void conveniencesAreTheirForms() {
        Random rng = new Random(7);
        int m = 19, k = 37, n = 45;
        float[] a = RandomArrays.gaussian(rng, m * k, 1f), b = RandomArrays.gaussian(rng, k * n, 1f);
        float[] expected = new float[m * n], actual = new float[m * n];
        Gemm.gemmReference(Op.N, Op.N, m, n, k, a, 0, k, b, 0, n, expected, 0, n, false, null, 0);
        Gemm.matmul(a, b, actual, m, k, n);
        assertClose(expected, actual, 1e-5, 1e-5, "A·B");

        float[] bt = transpose(b, k, n);
        Gemm.matmulTransB(a, bt, actual, m, k, n);
        assertClose(expected, actual, 1e-5, 1e-5, "A·Bᵀ");

        float[] at = transpose(a, m, k);
        Gemm.matmulTransA(at, b, actual, m, k, n);
        assertClose(expected, actual, 1e-5, 1e-5, "Aᵀ·B");
    }

    @Test
    void batchedEqualsOneProductAtATime() {
        Random rng = new Random(3);
        int count = 6, m = 13, k = 24, n = 13;
        float[] a = RandomArrays.gaussian(rng, count * m * k, 1f), b = RandomArrays.gaussian(rng, count * n * k, 1f);
        float[] expected = new float[count * m * n], actual = new float[count * m * n];
        for (int i = 0; i < count; i++) {
            Gemm.gemmReference(Op.N, Op.T, m, n, k, a, i * m * k, k, b, i * n * k, k, expected, i * m * n, n, false, null, 0);
        }
        Gemm.gemmBatched(count, Op.N, Op.T, m, n, k, a, 0, k, m * k, b, 0, k, n * k, actual, 0, n, m * n, false);
        assertClose(expected, actual, 1e-5, 1e-5, "batched");
    }

    /** With A packed once for all threads and columns handed out, every value of C is the one a single task computes, bit for bit. */
    @ParameterizedTest
    @EnumSource(Form.class)
    void sharingOnePackingOfAGivesTheBitsOfOneTask(Form form) {
        Random rng = new Random(13);
        int[][] shapes = {{256, 768, 3072}, {100, 300, 700}, {257, 520, 1030}, {1000, 260, 1100}};
        org.junit.jupiter.api.Assumptions.assumeTrue(Parallel.threads() > 1, "A is shared on machines with 2+ threads");
        for (int[] shape : shapes) {
            int m = shape[0], k = shape[1], n = shape[2];
            assertTrue(Gemm.sharesA(m, n, k), m + "x" + k + "x" + n + " shares A");
            int pad = 3, off = 5;
            int lda = (form.opA == Op.N ? k : m) + pad, ldb = (form.opB == Op.N ? n : k) + pad, ldc = n + pad;
            float[] a = RandomArrays.gaussian(rng, off + (form.opA == Op.N ? m : k) * lda, 1f);
            float[] b = RandomArrays.gaussian(rng, off + (form.opB == Op.N ? k : n) * ldb, 1f);
            for (boolean accumulate : new boolean[] {false, true}) {
                float[] shared = RandomArrays.gaussian(rng, off + m * ldc, 1f), one = shared.clone();
                Gemm.gemm(form.opA, form.opB, m, n, k, a, off, lda, b, off, ldb, shared, off, ldc, accumulate, null, 0);
                Gemm.gemmSerial(form.opA, form.opB, m, n, k, a, off, lda, b, off, ldb, one, off, ldc, accumulate);
                org.junit.jupiter.api.Assertions.assertArrayEquals(one, shared, form + " " + m + "x" + k + "x" + n + (accumulate ? " accumulate" : ""));
            }
        }
    }

    @Test
    void largeProductSplitOverThreadsMatches() {
        Random rng = new Random(11);
        int m = 300, k = 700, n = 2100;
        float[] a = RandomArrays.gaussian(rng, m * k, 1f), b = RandomArrays.gaussian(rng, k * n, 1f);
        float[] expected = new float[m * n], actual = new float[m * n];
        Gemm.gemmReference(Op.N, Op.N, m, n, k, a, 0, k, b, 0, n, expected, 0, n, false, null, 0);
        Gemm.matmul(a, b, actual, m, k, n);
        assertClose(expected, actual, 1e-4, 1e-3, "300x700x2100");
    }

    @Test
    void aLongInnerDimensionIsSplitAndStillMatches() {
        Random rng = new Random(12);
        int m = 24, k = 40_000, n = 70;
        org.junit.jupiter.api.Assumptions.assumeTrue(Gemm.kSplits(m, n, k) > 1, "K is split on machines with 2+ threads");
        float[] a = RandomArrays.gaussian(rng, m * k, 1f), bt = RandomArrays.gaussian(rng, n * k, 1f);
        float[] expected = RandomArrays.gaussian(rng, m * n, 1f), actual = expected.clone();
        Gemm.gemmReference(Op.N, Op.T, m, n, k, a, 0, k, bt, 0, k, expected, 0, n, true, null, 0);
        Gemm.gemm(Op.N, Op.T, m, n, k, a, 0, k, bt, 0, k, actual, 0, n, true, null, 0);
        assertClose(expected, actual, 1e-4, 2e-3, "split K, accumulate");
    }

    static float[] transpose(float[] x, int rows, int cols) {
        float[] t = new float[x.length];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
        return t;
    }

    enum Form {
        NN(Op.N, Op.N), NT(Op.N, Op.T), TN(Op.T, Op.N), TT(Op.T, Op.T);
        final Op opA, opB;

        Form(Op opA, Op opB) {
            this.opA = opA;
            this.opB = opB;
        }
    }
}
