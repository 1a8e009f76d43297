package dev.jlens.models.components;

import dev.jlens.kernels.CausalMask;

/**
 * Where the {@code pos} positions of one forward pass sit in their sequences: a KV cache may hold
 * the first {@code past} positions already, and each sequence may start after left padding
 * ({@code starts}). Attention reads the cache's keys and values and appends the new ones; positions
 * (learned or rotary) count from each sequence's start, as TransformerLens's offset position ids.
 *
 * @param starts null (every sequence starts at 0), or each sequence's first real position
 * @param cache  null, or the KV cache that holds the first {@code past} positions
 */
public record Span(int batch, int pos, int past, int[] starts, KeyValueCache cache) {
    /** A whole batch of sequences that all start at position 0, with no cache. */
    public static Span of(int batch, int pos) {
        return new Span(batch, pos, 0, null, null);
    }

    /** Whether every position is its index in the batch (no cache, no left padding). */
    public boolean plain() {
        return past == 0 && (starts == null || java.util.Arrays.stream(starts).allMatch(s -> s == 0));
    }

    /** Each position's index in its sequence, [batch·pos]; null when {@link #plain} (position t is t). */
    public int[] positionIds() {
        if (plain()) return null;
        int[] ids = new int[batch * pos];
        for (int b = 0; b < batch; b++) {
            int start = starts == null ? 0 : starts[b];
            for (int t = 0; t < pos; t++) ids[b * pos + t] = Math.max(0, past + t - start);
        }
        return ids;
    }

    /** Whether position t of sequence b is left padding. */
    public boolean padding(int b, int t) {
        return starts != null && past + t < starts[b];
    }

    /** The keys: the cached positions and these. */
    public int keys() {
        return past + pos;
    }

    /** Which keys each of these positions' queries sees, for attention with {@code heads} heads and a sliding window (0: none). */
    public CausalMask mask(int heads, int window) {
        return new CausalMask(batch, heads, pos, keys(), plain() ? null : starts, window);
    }

    /** {@link #mask} for keys and values read where the cache holds them: {@code kvHeads} heads, the cache's capacity of rows. */
    public CausalMask cachedMask(int heads, int kvHeads, int window) {
        return new CausalMask(batch, heads, pos, keys(), plain() ? null : starts, window, kvHeads, cache.capacity());
    }
}
