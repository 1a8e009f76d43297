package dev.jlens.models;

import dev.jlens.engine.Backend;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.kernels.Softmax;

/**
 * Next-token cross-entropy: position t of sequence b predicts token t+1, for real positions t and t+1;
 * padding takes no part. The mean is over every predicting position of the batch.
 */
public final class CrossEntropy {
    private CrossEntropy() {}

    /** −log p(token[b, t+1] | logits[b, t]) as [batch, pos − 1]; 0 at positions that predict nothing. */
    public static Tensor perToken(Tensor logits, Tokens tokens) {
        float[] out = new float[tokens.batch() * Math.max(0, tokens.pos() - 1)];
        perToken(logits, tokens, 0, out);
        return Tensor.of(out, tokens.batch(), Math.max(0, tokens.pos() - 1));
    }

    /**
     * {@link #perToken} for a slab of sequences: {@code logits} [n, pos, vocab] are those of sequences
     * {@code first .. first + n − 1}; their rows of {@code out} [batch, pos − 1] are written.
     */
    static void perToken(Tensor logits, Tokens tokens, int first, float[] out) {
        int pos = tokens.pos(), vocab = logits.dim(2);
        for (int i = 0; i < logits.dim(0); i++) {
            int b = first + i;
            for (int t = tokens.start(b); t + 1 < tokens.end(b); t++) {
                int row = (i * pos + t) * vocab;
                out[b * (pos - 1) + t] = (float) tokenLoss(logits.data(), row, vocab, tokens.get(b, t + 1));
            }
        }
    }

    /** Predicting positions in the batch. */
    public static int count(Tokens tokens) {
        int n = 0;
        for (int length : tokens.lengths()) n += Math.max(0, length - 1);
        return n;
    }

    /** A loss of tokens that predict nothing would be 0 (or NaN): refused, saying why. */
    static void requirePredictions(Tokens tokens) {
        if (count(tokens) == 0) {
            throw new JlensException("a next-token loss needs at least two tokens in a sequence (each token is predicted from those before it).");
        }
    }

    /** The mean over predicting positions, summed in double. */
    public static double mean(Tensor logits, Tokens tokens) {
        return accumulate(0, logits, tokens, 0) / Math.max(1, count(tokens));
    }

    /**
     * {@code sum} plus the loss of a slab of sequences, added in double one position at a time:
     * {@code logits} [n, pos, vocab] are those of sequences {@code first .. first + n − 1}. Slabs
     * accumulated in order give the very sum {@link #mean} divides.
     */
    static double accumulate(double sum, Tensor logits, Tokens tokens, int first) {
        int pos = tokens.pos(), vocab = logits.dim(2);
        for (int i = 0; i < logits.dim(0); i++) {
            int b = first + i;
            for (int t = tokens.start(b); t + 1 < tokens.end(b); t++) {
                int row = (i * pos + t) * vocab;
                sum += tokenLoss(logits.data(), row, vocab, tokens.get(b, t + 1));
            }
        }
        return sum;
    }

    /** The mean loss and its gradient dmean/dlogits, in one pass over the logits. */
    public record LossAndGradient(double loss, Tensor gradient) {}

    /**
     * dmean/dlogits = (softmax − onehot(next)) / count at predicting positions, 0 elsewhere; the
     * loss −log softmax[next] comes from the same row normalisation.
     */
    public static LossAndGradient lossAndGradient(Tensor logits, Tokens tokens) {
        requirePredictions(tokens);
        int batch = tokens.batch(), pos = tokens.pos();
        int[] targets = new int[batch * pos];
        for (int row = 0; row < targets.length; row++) {
            int b = row / pos, t = row % pos;
            targets[row] = t >= tokens.start(b) && t + 1 < tokens.end(b) ? tokens.get(b, t + 1) : -1;
        }
        Backend ops = Backend.of(logits);
        Tensor grad = ops.zeros(logits.shape());
        double[] rowLoss = ops.crossEntropy(logits, targets, 1f / Math.max(1, count(tokens)), grad);
        double sum = 0;
        for (double v : rowLoss) sum += v;
        return new LossAndGradient(sum / Math.max(1, count(tokens)), grad);
    }

    /** −log softmax(x[off .. off + n))[target], in double. */
    private static double tokenLoss(float[] x, int off, int n, int target) {
        return Softmax.logSumExp(x, off, n) - x[off + target];
    }
}
