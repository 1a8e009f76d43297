package dev.jlens.kernels;

import dev.jlens.kernels.Gemm.Op;

/**
 * Causal self-attention for every (batch, head) pair, in the three steps TransformerLens hooks
 * between: {@link #scores} (q·kᵀ/√D, −∞ for keys the {@link CausalMask} hides), {@link #pattern}
 * (row softmax over the keys a query sees) and {@link #mix} (z = pattern·v), each with its backward
 * beside it. Backward accumulates (+=) into its outputs.
 *
 * <p>Shapes: q, z [B, Tq, H, D]; k, v [B, Tk, H, D] (a head's rows are H·D apart); scores, pattern
 * [B, H, Tq, Tk]. Tq = Tk = T for a whole sequence; Tq &lt; Tk when a KV cache holds the first keys.
 */
public final class CausalAttention {
    private CausalAttention() {}

    /**
     * Up to this many queries after cached keys (decoding), scores and mixes are dot products and
     * sums of rows: packing the keys would cost more. Square attention always takes the packed
     * products, so a whole sequence's values never depend on this.
     */
    private static final int FEW_QUERIES = Gemv.ROWS;

    private static boolean decoding(CausalMask m) {
        return m.queries() <= FEW_QUERIES && m.queries() < m.keys();
    }

    /** scores = q·kᵀ·scale where the mask shows the key, −∞ elsewhere. */
    public static void scores(float[] q, float[] k, float[] scores, CausalMask m, int d, float scale) {
        int h = m.heads(), tq = m.queries(), tk = m.keys(), ld = h * d, ldk = m.keyStride(d);
        Parallel.forEach(m.batch() * h, bh -> {
            int batch = bh / h, head = bh % h;
            int qOff = batch * tq * ld + head * d, kOff = m.keyOffset(batch, head, d), sOff = bh * tq * tk;
            if (decoding(m)) {
                for (int i = 0; i < tq; i++) {
                    for (int j = m.first(batch, i); j <= m.last(i); j++) scores[sOff + i * tk + j] = Simd.dot(q, qOff + i * ld, k, kOff + j * ldk, d);
                }
            } else {
                Gemm.gemmSerial(Op.N, Op.T, tq, tk, d, q, qOff, ld, k, kOff, ldk, scores, sOff, tk, false);
            }
            for (int i = 0; i < tq; i++) {
                int row = sOff + i * tk, first = Math.min(m.first(batch, i), m.last(i) + 1);
                java.util.Arrays.fill(scores, row, row + first, Float.NEGATIVE_INFINITY);
                Simd.scale(scores, row + first, scale, m.last(i) + 1 - first);
                java.util.Arrays.fill(scores, row + m.last(i) + 1, row + tk, Float.NEGATIVE_INFINITY);
            }
        });
    }

    /** dq += dscores·k·scale; dk += dscoresᵀ·q·scale (dscores is 0 where masked). */
    public static void scoresBackward(float[] dscores, float[] q, float[] k, float[] dq, float[] dk, CausalMask m, int d, float scale) {
        requirePlainKeys(m);
        int h = m.heads(), tq = m.queries(), tk = m.keys(), ld = h * d;
        Parallel.forEach(m.batch() * h, bh -> {
            int batch = bh / h, head = bh % h;
            int qOff = batch * tq * ld + head * d, kOff = batch * tk * ld + head * d, sOff = bh * tq * tk;
            float[] scaled = new float[tq * tk];
            for (int i = 0; i < tq * tk; i++) scaled[i] = dscores[sOff + i] * scale;
            Gemm.gemmSerial(Op.N, Op.N, tq, d, tk, scaled, 0, tk, k, kOff, ld, dq, qOff, ld, true);
            Gemm.gemmSerial(Op.T, Op.N, tk, d, tq, scaled, 0, tk, q, qOff, ld, dk, kOff, ld, true);
        });
    }

    /** pattern = softmax of each scores row over the keys its query sees; a row that sees none is 0. */
    public static void pattern(float[] scores, float[] pattern, CausalMask m) {
        int h = m.heads(), tq = m.queries(), tk = m.keys();
        Parallel.forEach(m.batch() * h, bh -> {
            for (int i = 0; i < tq; i++) {
                int row = (bh * tq + i) * tk, first = m.first(bh / h, i), seen = m.last(i) + 1 - first;
                if (seen <= 0) {
                    java.util.Arrays.fill(pattern, row, row + tk, 0f);
                    continue;
                }
                java.util.Arrays.fill(pattern, row, row + first, 0f);
                Softmax.forward(scores, row + first, pattern, row + first, seen, tk - first);
            }
        });
    }

    /** dscores += softmax backward of dpattern. */
    public static void patternBackward(float[] pattern, float[] dpattern, float[] dscores, CausalMask m) {
        int h = m.heads(), tq = m.queries(), tk = m.keys();
        Parallel.forEach(m.batch() * h, bh -> {
            for (int i = 0; i < tq; i++) {
                int row = (bh * tq + i) * tk, first = m.first(bh / h, i), seen = m.last(i) + 1 - first;
                if (seen > 0) Softmax.backward(pattern, row + first, dpattern, row + first, dscores, row + first, seen);
            }
        });
    }

    /** z = pattern·v. */
    public static void mix(float[] pattern, float[] v, float[] z, CausalMask m, int d) {
        int h = m.heads(), tq = m.queries(), tk = m.keys(), ld = h * d, ldv = m.keyStride(d);
        Parallel.forEach(m.batch() * h, bh -> {
            int batch = bh / h, head = bh % h, vOff = m.keyOffset(batch, head, d);
            if (decoding(m)) {
                for (int i = 0; i < tq; i++) {
                    int zOff = batch * tq * ld + i * ld + head * d, pRow = (bh * tq + i) * tk;
                    java.util.Arrays.fill(z, zOff, zOff + d, 0f);
                    for (int j = m.first(batch, i); j <= m.last(i); j++) Simd.axpy(pattern[pRow + j], v, vOff + j * ldv, z, zOff, d);
                }
                return;
            }
            Gemm.gemmSerial(Op.N, Op.N, tq, d, tk, pattern, bh * tq * tk, tk, v, vOff, ldv,
                    z, batch * tq * ld + head * d, ld, false);
        });
    }

    /** dpattern += dz·vᵀ; dv += patternᵀ·dz. */
    public static void mixBackward(float[] dz, float[] pattern, float[] v, float[] dpattern, float[] dv, CausalMask m, int d) {
        requirePlainKeys(m);
        int h = m.heads(), tq = m.queries(), tk = m.keys(), ld = h * d;
        Parallel.forEach(m.batch() * h, bh -> {
            int batch = bh / h, head = bh % h;
            int zOff = batch * tq * ld + head * d, vOff = batch * tk * ld + head * d, pOff = bh * tq * tk;
            Gemm.gemmSerial(Op.N, Op.T, tq, tk, d, dz, zOff, ld, v, vOff, ld, dpattern, pOff, tk, true);
            Gemm.gemmSerial(Op.T, Op.N, tk, d, tq, pattern, pOff, tk, dz, zOff, ld, dv, vOff, ld, true);
        });
    }

    private static void requirePlainKeys(CausalMask m) {
        if (!m.plainKeys()) throw new IllegalArgumentException("a backward takes the keys and values of every head, one row per key");
    }

    /** All three steps: z from q, k, v, keeping scores and pattern for backward and hooks. */
    public static void forward(float[] q, float[] k, float[] v, float[] scores, float[] pattern, float[] z, CausalMask m, int d) {
        scores(q, k, scores, m, d, (float) (1 / Math.sqrt(d)));
        pattern(scores, pattern, m);
        mix(pattern, v, z, m, d);
    }

    /** {@link #forward} of square causal attention over t positions. */
    public static void forward(float[] q, float[] k, float[] v, float[] scores, float[] pattern, float[] z,
                               int b, int t, int h, int d) {
        forward(q, k, v, scores, pattern, z, CausalMask.causal(b, h, t), d);
    }

    /** dq, dk, dv += the gradients for dz, through the saved pattern. */
    public static void backward(float[] dz, float[] q, float[] k, float[] v, float[] pattern,
                                float[] dq, float[] dk, float[] dv, CausalMask m, int d) {
        float[] dpattern = new float[m.rows() * m.keys()], dscores = new float[dpattern.length];
        mixBackward(dz, pattern, v, dpattern, dv, m, d);
        patternBackward(pattern, dpattern, dscores, m);
        scoresBackward(dscores, q, k, dq, dk, m, d, (float) (1 / Math.sqrt(d)));
    }

    /** {@link #backward} of square causal attention over t positions. */
    public static void backward(float[] dz, float[] q, float[] k, float[] v, float[] pattern,
                                float[] dq, float[] dk, float[] dv, int b, int t, int h, int d) {
        backward(dz, q, k, v, pattern, dq, dk, dv, CausalMask.causal(b, h, t), d);
    }

    /** Reference: the textbook loops in double, for one call over all (batch, head) pairs. */
    public static void forwardReference(float[] q, float[] k, float[] v, float[] pattern, float[] z, CausalMask m, int d) {
        int h = m.heads(), tq = m.queries(), tk = m.keys();
        double scale = 1 / Math.sqrt(d);
        for (int batch = 0; batch < m.batch(); batch++) {
            for (int head = 0; head < h; head++) {
                for (int i = 0; i < tq; i++) {
                    int pRow = ((batch * h + head) * tq + i) * tk;
                    java.util.Arrays.fill(pattern, pRow, pRow + tk, 0f);
                    for (int c = 0; c < d; c++) z[at(batch, i, head, c, tq, h, d)] = 0f;
                    int first = m.first(batch, i), last = m.last(i);
                    if (first > last) continue;
                    double[] s = new double[tk];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = first; j <= last; j++) {
                        double dot = 0;
                        for (int c = 0; c < d; c++) dot += (double) q[at(batch, i, head, c, tq, h, d)] * k[m.keyOffset(batch, head, d) + j * m.keyStride(d) + c];
                        s[j] = dot * scale;
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = first; j <= last; j++) sum += s[j] = Math.exp(s[j] - max);
                    for (int j = first; j <= last; j++) pattern[pRow + j] = (float) (s[j] / sum);
                    for (int c = 0; c < d; c++) {
                        double acc = 0;
                        for (int j = first; j <= last; j++) acc += s[j] / sum * v[m.keyOffset(batch, head, d) + j * m.keyStride(d) + c];
                        z[at(batch, i, head, c, tq, h, d)] = (float) acc;
                    }
                }
            }
        }
    }

    /** {@link #forwardReference} of square causal attention over t positions. */
    public static void forwardReference(float[] q, float[] k, float[] v, float[] pattern, float[] z, int b, int t, int h, int d) {
        forwardReference(q, k, v, pattern, z, CausalMask.causal(b, h, t), d);
    }

    private static int at(int batch, int pos, int head, int c, int t, int h, int d) {
        return ((batch * t + pos) * h + head) * d + c;
    }
}
