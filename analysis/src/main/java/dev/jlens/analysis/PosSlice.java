package dev.jlens.analysis;

import dev.jlens.engine.JlensException;

/**
 * TransformerLens's {@code pos_slice}: all positions, one position (negative counts from the end,
 * as in Python), or a half-open range of positions.
 */
public record PosSlice(Integer index, int from, int to) {
    public static PosSlice all() {
        return new PosSlice(null, 0, Integer.MAX_VALUE);
    }

    public static PosSlice at(int index) {
        return new PosSlice(index, 0, 0);
    }

    public static PosSlice range(int from, int to) {
        return new PosSlice(null, from, to);
    }

    /** The positions of a sequence of length {@code pos} this slice keeps, in order. */
    public int[] positions(int pos) {
        if (index != null) {
            int i = index < 0 ? pos + index : index;
            if (i < 0 || i >= pos) throw new JlensException("position " + index + " is outside a sequence of " + pos + " tokens.");
            return new int[] {i};
        }
        int start = Math.max(0, from), end = Math.min(pos, to);
        int[] out = new int[Math.max(0, end - start)];
        for (int i = 0; i < out.length; i++) out[i] = start + i;
        return out;
    }
}
