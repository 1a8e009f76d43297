package dev.jlens.models.generation;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Draws tokens from logits by a {@link Sampling}, with its own seeded generator. */
final class Sampler {
    private final Sampling sampling;
    private final SplittableRandom random;

    Sampler(Sampling sampling) {
        this.sampling = sampling;
        this.random = new SplittableRandom(sampling.seed());
    }

    /**
     * The next token from {@code logits[off .. off + vocab)}.
     *
     * @param counts how many times each token occurs in the sequence so far (read for the frequency penalty)
     */
    int next(float[] logits, int off, int vocab, int[] counts) {
        if (sampling.isGreedy()) return Sampling.argMax(logits, off, vocab);
        double[] x = new double[vocab];
        for (int i = 0; i < vocab; i++) x[i] = logits[off + i] / sampling.temperature() - sampling.freqPenalty() * counts[i];
        if (sampling.topK() > 0 && sampling.topK() < vocab) keepTopK(x, sampling.topK());
        if (sampling.topP() < 1) keepTopP(x, sampling.topP());
        return draw(x);
    }

    /** Every logit below the k-th largest becomes −∞ (ties with it stay, as TransformerLens's comparison keeps them). */
    private static void keepTopK(double[] x, int k) {
        double[] sorted = x.clone();
        Arrays.sort(sorted);
        double kth = sorted[x.length - k];
        for (int i = 0; i < x.length; i++) if (x[i] < kth) x[i] = Double.NEGATIVE_INFINITY;
    }

    /**
     * Nucleus sampling: in order of decreasing logit, a token stays while the probability of the
     * tokens before it is at most p; the first always stays; the rest become −∞.
     */
    private static void keepTopP(double[] x, double p) {
        Integer[] order = new Integer[x.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(x[b], x[a]));
        double max = x[order[0]], sum = 0;
        for (double v : x) sum += Math.exp(v - max);
        double before = 0;
        boolean cut = false;
        for (int j = 0; j < order.length; j++) {
            int i = order[j];
            if (cut) {
                x[i] = Double.NEGATIVE_INFINITY;
                continue;
            }
            before += Math.exp(x[i] - max) / sum;
            cut = before > p;
        }
    }

    /** A draw from softmax(x). */
    private int draw(double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) max = Math.max(max, v);
        double[] weights = new double[x.length];
        double sum = 0;
        for (int i = 0; i < x.length; i++) sum += weights[i] = Math.exp(x[i] - max);
        double u = random.nextDouble() * sum, acc = 0;
        int last = 0;
        for (int i = 0; i < x.length; i++) {
            if (weights[i] == 0) continue;
            acc += weights[i];
            last = i;
            if (u < acc) return i;
        }
        return last;
    }
}
