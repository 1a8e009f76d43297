package dev.jlens.kernels;

import static dev.jlens.testkit.Close.assertClose;

import dev.jlens.testkit.FiniteDifferences;
import dev.jlens.testkit.RandomArrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LayerNormTest {
    private static final float EPS = 1e-5f;

    @Test
    void forwardAndBackwardMatchReferenceWithAndWithoutAffine() {
        Random rng = new Random(1);
        for (int c : new int[] {1, 5, 16, 33, 64, 768, 1001}) {
            for (boolean affine : new boolean[] {true, false}) {
                int n = 37;
                float[] x = RandomArrays.gaussian(rng, n * c, 2f);
                for (int i = 0; i < x.length; i++) x[i] += 3f; // a non-zero mean to remove
                float[] w = affine ? RandomArrays.gaussian(rng, c, 1f) : null, b = affine ? RandomArrays.gaussian(rng, c, 1f) : null;
                float[] yE = new float[n * c], yA = new float[n * c];
                float[] meanE = new float[n], meanA = new float[n], rstdE = new float[n], rstdA = new float[n];
                LayerNorm.forwardReference(x, yE, w, b, meanE, rstdE, n, c, EPS);
                LayerNorm.forward(x, yA, w, b, meanA, rstdA, n, c, EPS);
                String what = "c=" + c + (affine ? " affine" : "");
                assertClose(yE, yA, 1e-4, 1e-5, what + " y");
                assertClose(rstdE, rstdA, 1e-5, 0, what + " rstd");

                float[] dy = RandomArrays.gaussian(rng, n * c, 1f);
                float[] dxE = RandomArrays.gaussian(rng, n * c, 1f), dxA = dxE.clone();
                float[] dwE = affine ? new float[c] : null, dwA = affine ? new float[c] : null;
                float[] dbE = affine ? new float[c] : null, dbA = affine ? new float[c] : null;
                LayerNorm.backwardReference(dxE, dwE, dbE, dy, x, w, meanE, rstdE, n, c);
                LayerNorm.backward(dxA, dwA, dbA, dy, x, w, meanE, rstdE, n, c);
                assertClose(dxE, dxA, 1e-3, 1e-4, what + " dx");
                if (affine) {
                    assertClose(dwE, dwA, 1e-4, 1e-4, what + " dw");
                    assertClose(dbE, dbA, 1e-4, 1e-4, what + " db");
                }
            }
        }
    }

    @Test
    void referenceBackwardIsTheDerivative() {
        Random rng = new Random(2);
        int n = 3, c = 8;
        float[] x = RandomArrays.gaussian(rng, n * c, 1f), w = RandomArrays.gaussian(rng, c, 1f), b = RandomArrays.gaussian(rng, c, 1f);
        float[] r = RandomArrays.gaussian(rng, n * c, 1f);
        float[] mean = new float[n], rstd = new float[n];
        float[] numericX = FiniteDifferences.gradient(v -> forward(v, w, b, n, c), x, r, 1e-2f);
        float[] numericW = FiniteDifferences.gradient(v -> forward(x, v, b, n, c), w, r, 1e-2f);
        float[] numericB = FiniteDifferences.gradient(v -> forward(x, w, v, n, c), b, r, 1e-2f);
        LayerNorm.forwardReference(x, new float[n * c], w, b, mean, rstd, n, c, EPS);
        float[] dx = new float[n * c], dw = new float[c], db = new float[c];
        LayerNorm.backwardReference(dx, dw, db, r, x, w, mean, rstd, n, c);
        assertClose(numericX, dx, 3e-3, 1e-3, "dx");
        assertClose(numericW, dw, 3e-3, 1e-3, "dw");
        assertClose(numericB, db, 3e-3, 1e-3, "db");
    }

    private static float[] forward(float[] x, float[] w, float[] b, int n, int c) {
        float[] y = new float[n * c];
        LayerNorm.forwardReference(x, y, w, b, new float[n], new float[n], n, c, EPS);
        return y;
    }
}
