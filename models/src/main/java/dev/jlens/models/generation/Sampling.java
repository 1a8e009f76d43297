package dev.jlens.models.generation;

import dev.jlens.engine.JlensException;

/**
 * How the next token is chosen from the last position's logits, as TransformerLens's
 * {@code sample_logits}: temperature 0 is greedy (the arg max, lowest id on a tie); otherwise the
 * logits are divided by the temperature, lowered by {@code freqPenalty} times the number of times
 * each token already occurs in the sequence (prompt included), cut to the {@code topK} largest and
 * then to the smallest set whose probability reaches {@code topP} (the first token always stays),
 * and a token is drawn from their softmax. TransformerLens takes top-k or top-p; here both may be
 * given, applied in that order, as Hugging Face does.
 *
 * @param topK 0 for no cut, else the number of largest logits kept (ties with the k-th stay)
 * @param topP 1 for no cut, else in (0, 1]
 * @param seed the draws' seed: the same seed, prompt and model give the same tokens
 */
public record Sampling(double temperature, int topK, double topP, double freqPenalty, long seed) {
    public Sampling {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new JlensException("the temperature is " + temperature + "; it must be 0 (greedy) or more.");
        }
        if (topK < 0) throw new JlensException("top-k is " + topK + "; it must be at least 1.");
        if (!(topP > 0 && topP <= 1)) throw new JlensException("top-p is " + topP + "; it must be in (0, 1].");
        if (!(freqPenalty >= 0) || Double.isInfinite(freqPenalty)) {
            throw new JlensException("the frequency penalty is " + freqPenalty + "; it must be 0 or more.");
        }
    }

    public static Sampling greedy() {
        return new Sampling(0, 0, 1, 0, 0);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    /** The greedy choice among {@code logits[off .. off + vocab)}: the arg max, the lowest id on a tie. */
    public static int argMax(float[] logits, int off, int vocab) {
        int best = 0;
        for (int i = 1; i < vocab; i++) if (logits[off + i] > logits[off + best]) best = i;
        return best;
    }
}
