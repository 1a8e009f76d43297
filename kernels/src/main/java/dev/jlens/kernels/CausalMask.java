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
 * <p>Scores and patterns are [batch, heads, queries, keys]. Keys and values are
 * [batch, keyRows, kvHeads, d]: a KV cache holds {@code keyRows} positions per sequence, of which
 * the first {@code keys} are used, and with grouped-query attention query head h reads key/value
 * head h / (heads / kvHeads). The backward steps take keys and values of every head, exactly
 * {@code keys} rows ({@link #plainKeys}): a backward runs on whole sequences, never through a cache.
 *
 * @param starts  null (every sequence starts at 0), or each sequence's first real position
 * @param window  0 (none), or the keys each query sees at most
 * @param kvHeads heads of the keys and values
 * @param keyRows positions per sequence in the keys' and values' storage, at least {@code keys}
 */
public record CausalMask(int batch, int heads, int queries, int keys, int[] starts, int window, int kvHeads, int keyRows) {
    public CausalMask {
        if (queries > keys || queries < 0) throw new IllegalArgumentException(queries + " queries cannot be the last positions of " + keys + " keys");
        if (starts != null && starts.length != batch) throw new IllegalArgumentException(starts.length + " starts for a batch of " + batch);
        if (kvHeads <= 0 || heads % kvHeads != 0) throw new IllegalArgumentException(heads + " query heads cannot share " + kvHeads + " key/value heads");
        if (keyRows < keys) throw new IllegalArgumentException(keys + " keys do not fit " + keyRows + " rows");
    }

    /** Keys and values of every query head, stored with exactly {@code keys} rows per sequence. */
    public CausalMask(int batch, int heads, int queries, int keys, int[] starts, int window) {
        this(batch, heads, queries, keys, starts, window, heads, keys);
    }

    /** Whether keys and values have one head per query head and {@code keys} rows (what the backward steps take). */
    public boolean plainKeys() {
        return kvHeads == heads && keyRows == keys;
    }

    /** Where head {@code head}'s keys (or values) of sequence {@code batch} start, for d values per head. */
    public int keyOffset(int batch, int head, int d) {
        return (batch * keyRows * kvHeads + head / (heads / kvHeads)) * d;
    }

    /** Values from one key (or value) position to the next. */
    public int keyStride(int d) {
        return kvHeads * d;
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

    /** Whether this is square self-attention with nothing masked but the future (and a window), keys of every head. */
    public boolean square() {
        return queries == keys && plainKeys() && (starts == null || java.util.Arrays.stream(starts).allMatch(s -> s == 0));
    }

    /** Rows of scores: batch × heads × queries. */
    public int rows() {
        return batch * heads * queries;
    }
}
