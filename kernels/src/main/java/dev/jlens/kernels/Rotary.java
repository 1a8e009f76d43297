package dev.jlens.kernels;

/**
 * Rotary position embeddings in GPT-NeoX's rotate-half form, applied to the first {@code rotaryDim}
 * dimensions of each head of q or k (the rest pass through): with h = rotaryDim/2 and
 * θ_i = pos · base^(−2i/rotaryDim), the pair (x_i, x_{i+h}) turns by θ_i:
 * y_i = x_i·cos θ_i − x_{i+h}·sin θ_i, y_{i+h} = x_{i+h}·cos θ_i + x_i·sin θ_i.
 * Backward turns the gradient back by −θ_i.
 *
 * <p>Shapes: x, y, dx, dy [B, T, H, D]; the table holds cos and sin for positions [0, nCtx). Row
 * (b, t) turns by position t, or by {@code positions[b·T + t]} where given (left padding, a KV cache).
 */
public final class Rotary {
    private Rotary() {}

    /** A rope_scaling of Hugging Face's: how each inverse frequency changes for a longer context. */
    public sealed interface Scaling {
        double adjust(double invFreq);
    }

    /** {@code rope_type} linear: every frequency divided by {@code factor} (positions stretched). */
    public record LinearScaling(double factor) implements Scaling {
        @Override
        public double adjust(double invFreq) {
            return invFreq / factor;
        }
    }

    /**
     * Llama 3's rope_scaling ({@code rope_type} llama3): frequencies whose wavelength is longer than
     * the original context / lowFreqFactor are divided by {@code factor}, those shorter than original
     * context / highFreqFactor are kept, and those between move smoothly from one to the other
     * (Hugging Face's {@code _compute_llama3_parameters}).
     */
    public record Llama3Scaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) implements Scaling {
        @Override
        public double adjust(double invFreq) {
            double wavelength = 2 * Math.PI / invFreq;
            double lowFreqWavelength = originalMaxPositions / lowFreqFactor, highFreqWavelength = originalMaxPositions / highFreqFactor;
            if (wavelength < highFreqWavelength) return invFreq;
            if (wavelength > lowFreqWavelength) return invFreq / factor;
            double smooth = (originalMaxPositions / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
            return (1 - smooth) * invFreq / factor + smooth * invFreq;
        }
    }

    /** cos θ and sin θ for every position and pair, computed once per model in double. */
    public record Table(int rotaryDim, int nCtx, float[] cos, float[] sin) {
        public static Table of(int rotaryDim, int nCtx, double base) {
            return of(rotaryDim, nCtx, base, null);
        }

        /** @param scaling null, or how the frequencies are rescaled for a longer context */
        public static Table of(int rotaryDim, int nCtx, double base, Scaling scaling) {
            if (rotaryDim % 2 != 0) throw new IllegalArgumentException("rotary dimension must be even, got " + rotaryDim);
            int half = rotaryDim / 2;
            float[] cos = new float[nCtx * half], sin = new float[nCtx * half];
            for (int pos = 0; pos < nCtx; pos++) {
                for (int i = 0; i < half; i++) {
                    double invFreq = 1.0 / Math.pow(base, (2.0 * i) / rotaryDim);
                    if (scaling != null) invFreq = scaling.adjust(invFreq);
                    double angle = pos * invFreq;
                    cos[pos * half + i] = (float) Math.cos(angle);
                    sin[pos * half + i] = (float) Math.sin(angle);
                }
            }
            return new Table(rotaryDim, nCtx, cos, sin);
        }
    }

    public static void forward(Table table, float[] x, float[] y, int b, int t, int h, int d) {
        forward(table, x, y, null, b, t, h, d);
    }

    /** @param positions null (row (b, t) is at position t), or each row's position, [B·T] */
    public static void forward(Table table, float[] x, float[] y, int[] positions, int b, int t, int h, int d) {
        rotate(table, x, y, positions, b, t, h, d, 1f, false);
    }

    /** dx += Rᵀ·dy. */
    public static void backward(Table table, float[] dy, float[] dx, int b, int t, int h, int d) {
        backward(table, dy, dx, null, b, t, h, d);
    }

    public static void backward(Table table, float[] dy, float[] dx, int[] positions, int b, int t, int h, int d) {
        rotate(table, dy, dx, positions, b, t, h, d, -1f, true);
    }

    private static void rotate(Table table, float[] in, float[] out, int[] positions, int b, int t, int h, int d,
                               float direction, boolean accumulate) {
        int half = table.rotaryDim / 2;
        Parallel.forEach(b * t, bt -> {
            int pos = positions == null ? bt % t : positions[bt];
            for (int head = 0; head < h; head++) {
                int o = (bt * h + head) * d;
                for (int i = 0; i < half; i++) {
                    float c = table.cos[pos * half + i], s = direction * table.sin[pos * half + i];
                    float x1 = in[o + i], x2 = in[o + i + half];
                    float y1 = x1 * c - x2 * s, y2 = x2 * c + x1 * s;
                    if (accumulate) {
                        out[o + i] += y1;
                        out[o + i + half] += y2;
                    } else {
                        out[o + i] = y1;
                        out[o + i + half] = y2;
                    }
                }
                for (int i = table.rotaryDim; i < d; i++) out[o + i] = accumulate ? out[o + i] + in[o + i] : in[o + i];
            }
        });
    }

    /** Reference: the rotation as an explicit matrix per (position, pair), in double. */
    public static void forwardReference(int rotaryDim, double base, float[] x, float[] y, int b, int t, int h, int d) {
        int half = rotaryDim / 2;
        for (int bt = 0; bt < b * t; bt++) {
            int pos = bt % t;
            for (int head = 0; head < h; head++) {
                int o = (bt * h + head) * d;
                for (int i = 0; i < d; i++) y[o + i] = x[o + i];
                for (int i = 0; i < half; i++) {
                    double angle = pos / Math.pow(base, 2.0 * i / rotaryDim);
                    double[][] rot = {{Math.cos(angle), -Math.sin(angle)}, {Math.sin(angle), Math.cos(angle)}};
                    double x1 = x[o + i], x2 = x[o + i + half];
                    y[o + i] = (float) (rot[0][0] * x1 + rot[0][1] * x2);
                    y[o + i + half] = (float) (rot[1][0] * x1 + rot[1][1] * x2);
                }
            }
        }
    }
}
