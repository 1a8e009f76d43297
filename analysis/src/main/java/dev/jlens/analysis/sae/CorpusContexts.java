package dev.jlens.analysis.sae;

import dev.jlens.engine.JlensException;
import dev.jlens.models.tokenizer.Tokenizer;
import java.util.List;
import java.util.function.Supplier;

/**
 * Contexts for SAE training, as SAELens cuts them: the documents' tokens as one stream (each
 * document followed by the BOS token, which GPT-2-style tokenizers also use between texts), cut
 * into pieces of length − 1, each with BOS in front. The stream starts over at the end.
 */
public final class CorpusContexts implements Supplier<int[]> {
    private final int[] stream;
    private final int length, bos;
    private int at;

    public CorpusContexts(List<String> documents, Tokenizer tokenizer, int length) {
        if (length < 2) throw new IllegalArgumentException("a context holds BOS and at least one token");
        this.length = length;
        this.bos = tokenizer.bosToken();
        int[] all = new int[1024];
        int n = 0;
        for (String doc : documents) {
            if (doc.isBlank()) continue;
            int[] ids = tokenizer.toTokens(doc, false);
            if (n + ids.length + 1 > all.length) all = java.util.Arrays.copyOf(all, Math.max(2 * all.length, n + ids.length + 1));
            System.arraycopy(ids, 0, all, n, ids.length);
            n += ids.length;
            all[n++] = bos;
        }
        stream = java.util.Arrays.copyOf(all, n);
        if (stream.length < length - 1) {
            throw new JlensException("the corpus holds " + stream.length + " tokens, fewer than one context of " + (length - 1) + ".");
        }
    }

    @Override
    public int[] get() {
        if (at + length - 1 > stream.length) at = 0;
        int[] context = new int[length];
        context[0] = bos;
        System.arraycopy(stream, at, context, 1, length - 1);
        at += length - 1;
        return context;
    }

    /** Tokens in one pass over the corpus. */
    public int tokens() {
        return stream.length;
    }
}
