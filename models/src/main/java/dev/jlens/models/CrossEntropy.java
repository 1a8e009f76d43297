package dev.jlens.models;

import dev.jlens.engine.Tensor;

/**
 * Next-token cross-entropy: position t of sequence b predicts token t+1, for t + 1 < length(b);
 * padding takes no part. The mean is over every predicting position of the batch.
 */
public final class CrossEntropy {
    private CrossEntropy() {}

    /** −log p(token[b, t+1] | logits[b, t]) as [batch, pos − 1]; 0 at positions that predict nothing. */
    public static Tensor perToken(Tensor logits, Tokens tokens) {
        int batch = tokens.batch(), pos = tokens.pos(), vocab = logits.dim(2);
        float[] out = new float[batch * Math.max(0, pos - 1)];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t + 1 < tokens.lengths()[b]; t++) {
                int row = (b * pos + t) * vocab;
                out[b * (pos - 1) + t] = (float) (logSumExp(logits.data(), row, vocab) - logits.data()[row + tokens.get(b, t + 1)]);
            }
        }
        return Tensor.of(out, batch, Math.max(0, pos - 1));
    }

    /** Predicting positions in the batch. */
    public static int count(Tokens tokens) {
        int n = 0;
        for (int length : tokens.lengths()) n += Math.max(0, length - 1);
        return n;
    }

    /** The mean over predicting positions, summed in double. */
    public static double mean(Tensor logits, Tokens tokens) {
        int batch = tokens.batch(), pos = tokens.pos(), vocab = logits.dim(2);
        double sum = 0;
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t + 1 < tokens.lengths()[b]; t++) {
                int row = (b * pos + t) * vocab;
                sum += logSumExp(logits.data(), row, vocab) - logits.data()[row + tokens.get(b, t + 1)];
            }
        }
        return sum / Math.max(1, count(tokens));
    }

    /** dmean/dlogits: (softmax − onehot(next)) / count at predicting positions, 0 elsewhere. */
    public static Tensor gradientOfMean(Tensor logits, Tokens tokens) {
        int batch = tokens.batch(), pos = tokens.pos(), vocab = logits.dim(2);
        float[] grad = new float[logits.size()], l = logits.data();
        double scale = 1.0 / Math.max(1, count(tokens));
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t + 1 < tokens.lengths()[b]; t++) {
                int row = (b * pos + t) * vocab;
                double lse = logSumExp(l, row, vocab);
                for (int v = 0; v < vocab; v++) grad[row + v] = (float) (Math.exp(l[row + v] - lse) * scale);
                grad[row + tokens.get(b, t + 1)] -= (float) scale;
            }
        }
        return Tensor.of(grad, logits.shape());
    }

    static double logSumExp(float[] x, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(x[off + i] - max);
        return max + Math.log(sum);
    }
}
