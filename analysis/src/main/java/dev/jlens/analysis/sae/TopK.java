package dev.jlens.analysis.sae;

/** The k largest values of a row (ties to the lower index), as torch.topk picks them. */
final class TopK {
    private TopK() {}

    /**
     * Indices j in [0, n) of the k largest v[at + j]. The k best so far sit in a small array with
     * their minimum known: most values fall below it and cost one comparison; the rare one above
     * replaces it, and the minimum is found again over k (k is small beside n).
     */
    static int[] largest(float[] v, int at, int n, int k) {
        int size = Math.min(k, n);
        int[] best = new int[size];
        for (int j = 0; j < size; j++) best[j] = j;
        int worst = weakest(v, at, best);
        float floor = v[at + best[worst]];
        for (int j = size; j < n; j++) {
            if (v[at + j] > floor) {
                best[worst] = j;
                worst = weakest(v, at, best);
                floor = v[at + best[worst]];
            }
        }
        return best;
    }

    /** The slot of the smallest value among the chosen; of equal ones, the latest index (it loses a tie). */
    private static int weakest(float[] v, int at, int[] best) {
        int slot = 0;
        for (int s = 1; s < best.length; s++) {
            float a = v[at + best[s]], b = v[at + best[slot]];
            if (a < b || (a == b && best[s] > best[slot])) slot = s;
        }
        return slot;
    }
}
