package dev.jlens.models.tokenizer;

import dev.jlens.engine.JlensException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model: a piece's characters become tokens, then the adjacent pair of lowest merge rank
 * is merged (the leftmost among equals) until no ranked pair is left, as Hugging Face's
 * {@code Word::merge_all} does with its priority queue. Options of the model:
 * {@code ignore_merges} (Llama 3) takes a piece that is a token whole; {@code byte_fallback}
 * (Gemma) spells a character the vocabulary lacks as {@code <0xNN>} tokens of its UTF-8 bytes.
 */
final class Bpe {
    private static final int CACHE_LIMIT = 200_000, CACHED_PIECE_LENGTH = 64;

    private final Map<String, Integer> vocab;
    /** (left id, right id) → rank in the high 32 bits, merged id in the low. */
    private final Map<Long, Long> merges;
    private final boolean ignoreMerges, byteFallback;
    private final Integer unknown;
    private final int[] byteTokens;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    Bpe(Map<String, Integer> vocab, List<String[]> mergeList, boolean ignoreMerges, boolean byteFallback, String unkToken) {
        this.vocab = vocab;
        this.ignoreMerges = ignoreMerges;
        this.byteFallback = byteFallback;
        this.unknown = unkToken == null ? null : vocab.get(unkToken);
        merges = new HashMap<>(mergeList.size() * 2);
        for (int rank = 0; rank < mergeList.size(); rank++) {
            String[] pair = mergeList.get(rank);
            Integer left = vocab.get(pair[0]), right = vocab.get(pair[1]), merged = vocab.get(pair[0] + pair[1]);
            if (left == null || right == null || merged == null) continue; // a merge whose parts are not tokens never applies
            merges.putIfAbsent(key(left, right), ((long) rank << 32) | merged);
        }
        byteTokens = new int[256];
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(String.format("<0x%02X>", b));
            byteTokens[b] = id == null ? -1 : id;
        }
    }

    Map<String, Integer> vocab() {
        return vocab;
    }

    void encode(String piece, IntList out) {
        int[] ids = cache.get(piece);
        if (ids == null) {
            ids = merge(piece);
            if (piece.length() <= CACHED_PIECE_LENGTH) {
                if (cache.size() > CACHE_LIMIT) cache.clear();
                cache.put(piece, ids);
            }
        }
        out.addAll(ids);
    }

    private int[] merge(String piece) {
        if (ignoreMerges) {
            Integer whole = vocab.get(piece);
            if (whole != null) return new int[] {whole};
        }
        IntList initial = new IntList();
        for (int i = 0; i < piece.length(); ) {
            int cp = piece.codePointAt(i);
            String ch = piece.substring(i, i + Character.charCount(cp));
            i += ch.length();
            Integer id = vocab.get(ch);
            if (id != null) initial.add(id);
            else fallback(ch, initial);
        }
        int[] symbols = initial.toArray();
        int n = symbols.length;
        if (n < 2) return symbols;
        // A doubly linked list over the symbols, and the candidate merges ordered by (rank, position).
        int[] prev = new int[n], next = new int[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<long[]> queue = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        for (int i = 0; i + 1 < n; i++) offer(queue, symbols, i, i + 1);
        while (!queue.isEmpty()) {
            long[] top = queue.poll();
            int left = (int) top[1], right = (int) top[2];
            // Stale when either side has merged since the candidate was queued.
            if (symbols[left] < 0 || next[left] != right || symbols[right] < 0 || (int) top[3] != symbols[left] || (int) top[4] != symbols[right]) {
                continue;
            }
            symbols[left] = (int) (merges.get(key(symbols[left], symbols[right])) & 0xffffffffL);
            symbols[right] = -1;
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            if (prev[left] >= 0) offer(queue, symbols, prev[left], left);
            if (next[left] >= 0) offer(queue, symbols, left, next[left]);
        }
        IntList out = new IntList();
        for (int i = 0; i >= 0; i = next[i]) out.add(symbols[i]);
        return out.toArray();
    }

    private void offer(PriorityQueue<long[]> queue, int[] symbols, int left, int right) {
        Long merge = merges.get(key(symbols[left], symbols[right]));
        if (merge != null) queue.add(new long[] {merge >>> 32, left, right, symbols[left], symbols[right]});
    }

    /** A character the vocabulary lacks: its bytes as {@code <0xNN>} tokens, else the unknown token, else an error. */
    private void fallback(String ch, IntList out) {
        if (byteFallback) {
            byte[] bytes = ch.getBytes(StandardCharsets.UTF_8);
            int[] ids = new int[bytes.length];
            boolean all = true;
            for (int i = 0; i < bytes.length; i++) all &= (ids[i] = byteTokens[bytes[i] & 0xff]) >= 0;
            if (all) {
                out.addAll(ids);
                return;
            }
        }
        if (unknown != null) {
            out.add(unknown);
            return;
        }
        throw new JlensException("the tokenizer has no token for " + JlensException.quote(ch) + " (U+"
                + Integer.toHexString(ch.codePointAt(0)).toUpperCase(java.util.Locale.ROOT) + ") and no unknown token.");
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xffffffffL);
    }

    /** The inverse vocabulary, by id. */
    String[] tokensById(int size) {
        String[] tokens = new String[size];
        vocab.forEach((token, id) -> tokens[id] = token);
        return tokens;
    }
}
