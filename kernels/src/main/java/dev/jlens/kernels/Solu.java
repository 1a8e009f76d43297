package dev.jlens.kernels;

/**
 * SoLU, the softmax linear unit of TransformerLens's SoLU models: y = x ⊙ softmax(x) over each
 * row of width C (the MLP's hidden layer; the layer norm that follows is a separate step).
 * Backward, with s = softmax(x): dx = dy⊙s + s⊙(g − Σ g⊙s) where g = dy⊙x.
 *
 * <p>Shapes: x, y, dy, dx [N, C].
 */
public final class Solu {
    private Solu() {}

    public static void forward(float[] x, float[] y, int n, int c) {
        Parallel.forEach(n, row -> {
            int o = row * c;
            float[] s = new float[c];
            Softmax.forward(x, o, s, 0, c, c);
            for (int i = 0; i < c; i++) y[o + i] = x[o + i] * s[i];
        });
    }

    /** dx += dL/dx, softmax recomputed from x. */
    public static void backward(float[] x, float[] dy, float[] dx, int n, int c) {
        Parallel.forEach(n, row -> {
            int o = row * c;
            float[] s = new float[c], g = new float[c];
            Softmax.forward(x, o, s, 0, c, c);
            for (int i = 0; i < c; i++) {
                g[i] = dy[o + i] * x[o + i];
                dx[o + i] += dy[o + i] * s[i];
            }
            Softmax.backward(s, 0, g, 0, dx, o, c);
        });
    }

    public static void forwardReference(float[] x, float[] y, int n, int c) {
        float[] s = new float[c];
        for (int row = 0; row < n; row++) {
            Softmax.forwardReference(x, row * c, s, 0, c, c);
            for (int i = 0; i < c; i++) y[row * c + i] = (float) ((double) x[row * c + i] * s[i]);
        }
    }

    public static void backwardReference(float[] x, float[] dy, float[] dx, int n, int c) {
        float[] s = new float[c];
        for (int row = 0; row < n; row++) {
            int o = row * c;
            Softmax.forwardReference(x, o, s, 0, c, c);
            double inner = 0;
            for (int i = 0; i < c; i++) inner += (double) dy[o + i] * x[o + i] * s[i];
            for (int i = 0; i < c; i++) {
                double g = (double) dy[o + i] * x[o + i];
                dx[o + i] += (float) (dy[o + i] * s[i] + s[i] * (g - inner));
            }
        }
    }
}
