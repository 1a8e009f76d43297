package dev.jlens.models.tokenizer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The tokens cut out of raw text before normalization and pre-tokenization ({@code <|endoftext|>},
 * {@code <|im_start|>}, Gemma's runs of newlines), matched as Hugging Face matches them: leftmost
 * first, the longest where several start at one place. A character trie keeps this linear in the
 * text whatever the number of tokens (Gemma 3 has 6,415).
 */
final class AddedTokens {
    private static final class Node {
        final Map<Character, Node> next = new HashMap<>();
        AddedToken token;
    }

    private final List<AddedToken> tokens;
    private final Node root = new Node();
    private final Map<Integer, AddedToken> byId = new HashMap<>();

    AddedTokens(List<AddedToken> tokens) {
        this.tokens = List.copyOf(tokens);
        for (AddedToken t : tokens) {
            Node n = root;
            for (int i = 0; i < t.content().length(); i++) n = n.next.computeIfAbsent(t.content().charAt(i), c -> new Node());
            n.token = t;
            byId.put(t.id(), t);
        }
    }

    List<AddedToken> all() {
        return tokens;
    }

    boolean isAdded(int id) {
        return byId.containsKey(id);
    }

    /** The added token spelled {@code content}, or null. */
    AddedToken named(String content) {
        for (AddedToken t : tokens) if (t.content().equals(content)) return t;
        return null;
    }

    /** Where the next added token starts at or after {@code from}, and which; null when none does. */
    Match next(String text, int from) {
        if (tokens.isEmpty()) return null;
        for (int at = from; at < text.length(); at++) {
            AddedToken longest = null;
            Node n = root;
            for (int i = at; i < text.length(); i++) {
                n = n.next.get(text.charAt(i));
                if (n == null) break;
                if (n.token != null) longest = n.token;
            }
            if (longest != null) return new Match(at, longest);
        }
        return null;
    }

    record Match(int at, AddedToken token) {}
}
