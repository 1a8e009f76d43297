package dev.jlens.kernels;

import dev.jlens.kernels.Gemm.Op;

/**
 * Causal self-attention for every (batch, head) pair, in the three steps TransformerLens hooks
 * between: {@link #scores} (q·kᵀ/√D, −∞ above the diagonal), {@link #pattern} (row softmax) and
 * {@link #mix} (z = pattern·v), each with its backward beside it. Backward accumulates (+=) into
 * its outputs.
 *
 * <p>Shapes: q, k, v, z [B, T, H, D] (a head's rows are H·D apart); scores, pattern [B, H, T, T].
 * With right padding no key mask is needed: a real query at position i sees keys 0..i, all real.
 */
public final class CausalAttention {
    private CausalAttention() {}

    /** scores = q·kᵀ·scale, −∞ where key > query. */
    public static void scores(float[] q, float[] k, float[] scores, int b, int t, int h, int d, float scale) {
        int ld = h * d;
        Parallel.forEach(b * h, bh -> {
            int batch = bh / h, head = bh % h;
            int qkOff = batch * t * ld + head * d, sOff = bh * t * t;
            Gemm.gemmSerial(Op.N, Op.T, t, t, d, q, qkOff, ld, k, qkOff, ld, scores, sOff, t, false);
            for (int i = 0; i < t; i++) {
                int row = sOff + i * t;
                Simd.scale(scores, row, scale, i + 1);
                java.util.Arrays.fill(scores, row + i + 1, row + t, Float.NEGATIVE_INFINITY);
            }
        });
    }

    /** Scores of {@code count} [t, t] blocks: key j masked to −∞ for query i when i − j ≥ window (Mistral's sliding window). */
    public static void maskOutsideWindow(float[] scores, int count, int t, int window) {
        Parallel.forEach(count, c -> {
            for (int i = window; i < t; i++) java.util.Arrays.fill(scores, (c * t + i) * t, (c * t + i) * t + i - window + 1, Float.NEGATIVE_INFINITY);
        });
    }

    /** dq += dscores·k·scale; dk += dscoresᵀ·q·scale (dscores is 0 where masked). */
    public static void scoresBackward(float[] dscores, float[] q, float[] k, float[] dq, float[] dk,
                                      int b, int t, int h, int d, float scale) {
        int ld = h * d;
        Parallel.forEach(b * h, bh -> {
            int batch = bh / h, head = bh % h;
            int qkOff = batch * t * ld + head * d, sOff = bh * t * t;
            float[] scaled = new float[t * t];
            for (int i = 0; i < t * t; i++) scaled[i] = dscores[sOff + i] * scale;
            Gemm.gemmSerial(Op.N, Op.N, t, d, t, scaled, 0, t, k, qkOff, ld, dq, qkOff, ld, true);
            Gemm.gemmSerial(Op.T, Op.N, t, d, t, scaled, 0, t, q, qkOff, ld, dk, qkOff, ld, true);
        });
    }

    /** pattern = softmax of each scores row over its causal keys. */
    public static void pattern(float[] scores, float[] pattern, int b, int t, int h) {
        Parallel.forEach(b * h, bh -> {
            for (int i = 0; i < t; i++) {
                int row = (bh * t + i) * t;
                Softmax.forward(scores, row, pattern, row, i + 1, t);
            }
        });
    }

    /** dscores += softmax backward of dpattern. */
    public static void patternBackward(float[] pattern, float[] dpattern, float[] dscores, int b, int t, int h) {
        Parallel.forEach(b * h, bh -> {
            for (int i = 0; i < t; i++) {
                int row = (bh * t + i) * t;
                Softmax.backward(pattern, row, dpattern, row, dscores, row, i + 1);
            }
        });
    }

    /** z = pattern·v. */
    public static void mix(float[] pattern, float[] v, float[] z, int b, int t, int h, int d) {
        int ld = h * d;
        Parallel.forEach(b * h, bh -> {
            int batch = bh / h, head = bh % h;
            int vOff = batch * t * ld + head * d;
            Gemm.gemmSerial(Op.N, Op.N, t, d, t, pattern, bh * t * t, t, v, vOff, ld, z, vOff, ld, false);
        });
    }

    /** dpattern += dz·vᵀ; dv += patternᵀ·dz. */
    public static void mixBackward(float[] dz, float[] pattern, float[] v, float[] dpattern, float[] dv,
                                   int b, int t, int h, int d) {
        int ld = h * d;
        Parallel.forEach(b * h, bh -> {
            int batch = bh / h, head = bh % h;
            int vOff = batch * t * ld + head * d, pOff = bh * t * t;
            Gemm.gemmSerial(Op.N, Op.T, t, t, d, dz, vOff, ld, v, vOff, ld, dpattern, pOff, t, true);
            Gemm.gemmSerial(Op.T, Op.N, t, d, t, pattern, pOff, t, dz, vOff, ld, dv, vOff, ld, true);
        });
    }

    /** All three steps: z from q, k, v, keeping scores and pattern for backward and hooks. */
    public static void forward(float[] q, float[] k, float[] v, float[] scores, float[] pattern, float[] z,
                               int b, int t, int h, int d) {
        float scale = (float) (1 / Math.sqrt(d));
        scores(q, k, scores, b, t, h, d, scale);
        pattern(scores, pattern, b, t, h);
        mix(pattern, v, z, b, t, h, d);
    }

    /** dq, dk, dv += the gradients for dz, through the saved pattern. */
    public static void backward(float[] dz, float[] q, float[] k, float[] v, float[] pattern,
                                float[] dq, float[] dk, float[] dv, int b, int t, int h, int d) {
        float[] dpattern = new float[b * h * t * t], dscores = new float[b * h * t * t];
        mixBackward(dz, pattern, v, dpattern, dv, b, t, h, d);
        patternBackward(pattern, dpattern, dscores, b, t, h);
        scoresBackward(dscores, q, k, dq, dk, b, t, h, d, (float) (1 / Math.sqrt(d)));
    }

    /** Reference: the textbook loops in double, for one call over all (batch, head) pairs. */
    public static void forwardReference(float[] q, float[] k, float[] v, float[] pattern, float[] z,
                                        int b, int t, int h, int d) {
        double scale = 1 / Math.sqrt(d);
        for (int batch = 0; batch < b; batch++) {
            for (int head = 0; head < h; head++) {
                for (int i = 0; i < t; i++) {
                    double[] s = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        double dot = 0;
                        for (int c = 0; c < d; c++) dot += (double) q[at(batch, i, head, c, t, h, d)] * k[at(batch, j, head, c, t, h, d)];
                        s[j] = dot * scale;
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) sum += s[j] = Math.exp(s[j] - max);
                    int pRow = ((batch * h + head) * t + i) * t;
                    for (int j = 0; j < t; j++) pattern[pRow + j] = j <= i ? (float) (s[j] / sum) : 0f;
                    for (int c = 0; c < d; c++) {
                        double acc = 0;
                        for (int j = 0; j <= i; j++) acc += s[j] / sum * v[at(batch, j, head, c, t, h, d)];
                        z[at(batch, i, head, c, t, h, d)] = (float) acc;
                    }
                }
            }
        }
    }

    private static int at(int batch, int pos, int head, int c, int t, int h, int d) {
        return ((batch * t + pos) * h + head) * d + c;
    }
}
