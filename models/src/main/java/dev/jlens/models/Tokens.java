package dev.jlens.models;

import dev.jlens.engine.JlensException;
import java.util.Arrays;

/**
 * A batch of token sequences padded to one length: ids [batch, pos] row-major, and where each
 * sequence's real tokens are: positions {@code starts[b]} .. {@code starts[b] + lengths[b] − 1}.
 * Right padding (TransformerLens's default) puts every start at 0; left padding
 * ({@code padding_side="left"}, for generating from prompts of different lengths) puts the padding
 * before each start. This is TransformerLens's attention mask, whose ones are one run per row:
 * attention never lets a real position see padding, positions count from each sequence's start,
 * and losses skip padding.
 */
public record Tokens(int[] ids, int batch, int pos, int[] starts, int[] lengths) {
    public Tokens {
        if (ids.length != batch * pos || lengths.length != batch || starts.length != batch) {
            throw new IllegalArgumentException("token batch of " + ids.length + " ids is not " + batch + " x " + pos);
        }
        for (int b = 0; b < batch; b++) {
            if (starts[b] < 0 || lengths[b] < 0 || starts[b] + lengths[b] > pos) {
                throw new IllegalArgumentException("sequence " + b + " at " + starts[b] + " of length " + lengths[b] + " does not fit " + pos + " positions");
            }
        }
    }

    /** Right-padded sequences: each starts at position 0. */
    public Tokens(int[] ids, int batch, int pos, int[] lengths) {
        this(ids, batch, pos, new int[batch], lengths);
    }

    /** One unpadded sequence. */
    public static Tokens of(int... ids) {
        return new Tokens(ids.clone(), 1, ids.length, new int[] {ids.length});
    }

    /** Sequences of any lengths, right-padded with {@code padId}. */
    public static Tokens padded(int padId, int[]... sequences) {
        return padded(padId, false, sequences);
    }

    /** Sequences of any lengths, left-padded with {@code padId}: every sequence ends at the last position. */
    public static Tokens leftPadded(int padId, int[]... sequences) {
        return padded(padId, true, sequences);
    }

    private static Tokens padded(int padId, boolean left, int[][] sequences) {
        int pos = 0;
        for (int[] s : sequences) pos = Math.max(pos, s.length);
        int[] ids = new int[sequences.length * pos], starts = new int[sequences.length], lengths = new int[sequences.length];
        Arrays.fill(ids, padId);
        for (int b = 0; b < sequences.length; b++) {
            starts[b] = left ? pos - sequences[b].length : 0;
            System.arraycopy(sequences[b], 0, ids, b * pos + starts[b], sequences[b].length);
            lengths[b] = sequences[b].length;
        }
        return new Tokens(ids, sequences.length, pos, starts, lengths);
    }

    /**
     * From TransformerLens's attention mask [batch, pos] of 0 and 1. Its ones must be one run per row
     * (left or right padding), which is every mask a tokenizer's padding makes.
     */
    public static Tokens masked(int[] ids, int batch, int pos, int[] mask) {
        if (mask.length != batch * pos) throw new JlensException("the attention mask has " + mask.length + " values for " + batch + " x " + pos + " tokens.");
        int[] starts = new int[batch], lengths = new int[batch];
        for (int b = 0; b < batch; b++) {
            int first = -1, count = 0;
            for (int t = 0; t < pos; t++) {
                int m = mask[b * pos + t];
                if (m != 0 && m != 1) throw new JlensException("the attention mask holds " + m + " at row " + b + ", position " + t + "; it takes 0 and 1.");
                if (m == 1) {
                    if (first < 0) first = t;
                    else if (mask[b * pos + t - 1] == 0) {
                        throw new JlensException("row " + b + " of the attention mask has a gap at position " + (t - 1)
                                + "; jlens takes masks whose ones are one run per row (left or right padding).");
                    }
                    count++;
                }
            }
            starts[b] = Math.max(first, 0);
            lengths[b] = count;
        }
        return new Tokens(ids, batch, pos, starts, lengths);
    }

    /** TransformerLens's attention mask: 1 at real tokens, 0 at padding, [batch, pos] row-major. */
    public int[] attentionMask() {
        int[] mask = new int[batch * pos];
        for (int b = 0; b < batch; b++) Arrays.fill(mask, b * pos + starts[b], b * pos + end(b), 1);
        return mask;
    }

    public int get(int b, int t) {
        return ids[b * pos + t];
    }

    /** Sequence b's first real position. */
    public int start(int b) {
        return starts[b];
    }

    /** One past sequence b's last real position. */
    public int end(int b) {
        return starts[b] + lengths[b];
    }

    /** Sequence b's real tokens. */
    public int[] sequence(int b) {
        return Arrays.copyOfRange(ids, b * pos + starts[b], b * pos + end(b));
    }

    /** Whether any sequence starts after position 0: then attention masks keys before each start. */
    public boolean leftPadded() {
        for (int s : starts) if (s > 0) return true;
        return false;
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
