package dev.jlens.kernels;

/**
 * Which keys each query of an attention call sees. The call has {@code queries} queries and
 * {@code keys} keys per sequence; the queries are the last positions of the keys' sequence (a KV
 * cache holds the first {@code keys − queries}). Query i of sequence b sees keys
 * {@link #first}(b, i) .. {@link #last}(i): none after itself (causal), none before the sequence's
 * first real token (left padding: {@code starts[b]}), and with a sliding window only the
 * {@code window} newest, itself included. A query with no key to see (a left-padding position)
 * gets a pattern of zeros, as TransformerLens gives it.
 *
 * <p>Scores and patterns are [batch, heads, queries, keys].
 *
 * @param starts null (every sequence starts at 0), or each sequence's first real position
 * @param window 0 (none), or the keys each query sees at most
 */
public record CausalMask(int batch, int heads, int queries, int keys, int[] starts, int window) {
    public CausalMask {
        if (queries > keys || queries < 0) throw new IllegalArgumentException(queries + " queries cannot be the last positions of " + keys + " keys");
        if (starts != null && starts.length != batch) throw new IllegalArgumentException(starts.length + " starts for a batch of " + batch);
    }

    /** Plain causal self-attention over t positions (queries and keys the same). */
    public static CausalMask causal(int batch, int heads, int t) {
        return new CausalMask(batch, heads, t, t, null, 0);
    }

    /** The last key query i sees: itself. */
    public int last(int i) {
        return keys - queries + i;
    }

    /** The first key query i of sequence b sees; past {@link #last} when it sees none. */
    public int first(int b, int i) {
        int from = starts == null ? 0 : starts[b];
        return window > 0 ? Math.max(from, last(i) - window + 1) : from;
    }

    /** Whether this is square self-attention with nothing masked but the future (and a window). */
    public boolean square() {
        return queries == keys && (starts == null || java.util.Arrays.stream(starts).allMatch(s -> s == 0));
    }

    /** Rows of scores: batch × heads × queries. */
    public int rows() {
        return batch * heads * queries;
    }
}
