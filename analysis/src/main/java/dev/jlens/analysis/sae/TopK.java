package dev.jlens.analysis.sae;

import java.util.PriorityQueue;

/** The k largest values of a row, as torch.topk picks them (ties broken towards the lower index). */
final class TopK {
    private TopK() {}

    /** Indices j in [0, n) of the k largest v[at + j]. */
    static int[] largest(float[] v, int at, int n, int k) {
        // A min-heap of the k best so far: the row is read once, and k is small beside n.
        PriorityQueue<Integer> heap = new PriorityQueue<>(k + 1, (a, b) -> {
            int c = Float.compare(v[at + a], v[at + b]);
            return c != 0 ? c : Integer.compare(b, a);
        });
        for (int j = 0; j < n; j++) {
            if (heap.size() < k) heap.add(j);
            else {
                int worst = heap.peek();
                if (v[at + j] > v[at + worst]) {
                    heap.poll();
                    heap.add(j);
                }
            }
        }
        int[] out = new int[heap.size()];
        int i = 0;
        for (int j : heap) out[i++] = j;
        return out;
    }
}
