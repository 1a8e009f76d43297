package dev.jlens.analysis;

import dev.jlens.engine.Tensor;
import dev.jlens.models.Tokens;

/** A scalar read from a run's logits, with its gradient for attribution patching. */
public interface Metric {
    double value(Tensor logits, Tokens tokens);

    /** dvalue/dlogits, shaped like the logits. */
    Tensor gradient(Tensor logits, Tokens tokens);

    /**
     * Whether the metric reads only each prompt's last real position; if so, sweeps may pass logits
     * [batch, 1, vocab] of those positions with tokens of length 1.
     */
    default boolean lastPositionOnly() {
        return false;
    }

    /**
     * The mean over prompts of logit(correct) − logit(incorrect) at each prompt's last real position,
     * as the IOI and a/an notebooks measure it.
     */
    static Metric logitDifference(int[] correct, int[] incorrect) {
        return new Metric() {
            @Override
            public double value(Tensor logits, Tokens tokens) {
                check(tokens);
                double sum = 0;
                for (double d : logitDifferences(logits, tokens, correct, incorrect)) sum += d;
                return sum / tokens.batch();
            }

            @Override
            public Tensor gradient(Tensor logits, Tokens tokens) {
                check(tokens);
                Tensor g = Tensor.zeros(logits.shape());
                for (int b = 0; b < tokens.batch(); b++) {
                    int last = tokens.end(b) - 1;
                    g.set(g.get(b, last, correct[b]) + 1f / tokens.batch(), b, last, correct[b]);
                    g.set(g.get(b, last, incorrect[b]) - 1f / tokens.batch(), b, last, incorrect[b]);
                }
                return g;
            }

            @Override
            public boolean lastPositionOnly() {
                return true;
            }

            private void check(Tokens tokens) {
                if (correct.length != tokens.batch() || incorrect.length != tokens.batch()) {
                    throw new dev.jlens.engine.JlensException("the logit difference needs one answer pair per prompt: "
                            + correct.length + " pairs for " + tokens.batch() + " prompts.");
                }
            }
        };
    }

    /** logit(correct[b]) − logit(incorrect[b]) at each prompt's last real position, per prompt. */
    static double[] logitDifferences(Tensor logits, Tokens tokens, int[] correct, int[] incorrect) {
        double[] out = new double[tokens.batch()];
        for (int b = 0; b < tokens.batch(); b++) {
            int last = tokens.end(b) - 1;
            out[b] = logits.get(b, last, correct[b]) - logits.get(b, last, incorrect[b]);
        }
        return out;
    }

    /**
     * The patching metric of notebooks 002 and 003: (patched − corrupted) / (clean − corrupted), 1 when
     * a patch restores the clean behaviour, 0 when it changes nothing.
     */
    static double normalised(double patched, double clean, double corrupted) {
        return (patched - corrupted) / (clean - corrupted);
    }
}
