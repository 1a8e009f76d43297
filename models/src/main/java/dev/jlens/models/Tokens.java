package dev.jlens.models;

import dev.jlens.engine.JlensException;

/**
 * A batch of token sequences, right-padded to one length: ids [batch, pos] row-major, and each
 * sequence's real length. Padding sits only after a sequence's end, so causal attention never lets
 * a real position see it, and losses skip it.
 */
public record Tokens(int[] ids, int batch, int pos, int[] lengths) {
    public Tokens {
        if (ids.length != batch * pos || lengths.length != batch) {
            throw new IllegalArgumentException("token batch of " + ids.length + " ids is not " + batch + " x " + pos);
        }
    }

    /** One unpadded sequence. */
    public static Tokens of(int... ids) {
        return new Tokens(ids.clone(), 1, ids.length, new int[] {ids.length});
    }

    /** Sequences of any lengths, right-padded with {@code padId}. */
    public static Tokens padded(int padId, int[]... sequences) {
        int pos = 0;
        for (int[] s : sequences) pos = Math.max(pos, s.length);
        int[] ids = new int[sequences.length * pos], lengths = new int[sequences.length];
        java.util.Arrays.fill(ids, padId);
        for (int b = 0; b < sequences.length; b++) {
            System.arraycopy(sequences[b], 0, ids, b * pos, sequences[b].length);
            lengths[b] = sequences[b].length;
        }
        return new Tokens(ids, sequences.length, pos, lengths);
    }

    public int get(int b, int t) {
        return ids[b * pos + t];
    }

    /** Refuses ids outside the vocabulary and sequences longer than the context, naming which. */
    public void check(Config cfg) {
        if (pos > cfg.nCtx()) {
            throw new JlensException("the input is " + pos + " tokens long but the model's context (n_ctx) is " + cfg.nCtx() + " tokens.");
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= cfg.dVocab()) {
                throw new JlensException("token id " + ids[i] + " at position " + (i % pos) + " is outside the vocabulary of "
                        + cfg.dVocab() + " tokens.");
            }
        }
    }
}
