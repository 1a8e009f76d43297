package dev.jlens.models.generation;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.models.Config;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.components.KeyValueCache;
import java.util.Arrays;

/**
 * TransformerLens's {@code HookedTransformer.generate}: continues each prompt of a batch one token
 * at a time. The prompts are left-padded so that every sequence's next token goes at the same
 * position; with the KV cache (the default) each step runs the model on the new position only,
 * without it on the whole sequence so far. Forward hooks fire at every step, on the positions that
 * step runs. A sequence stops at the end-of-sequence token, when the caller's {@link Listener}
 * says so (stop strings), or after {@code maxNewTokens}; a stopped sequence is fed the
 * end-of-sequence token (or its last token) until the others stop, and nothing more of it is kept.
 */
public final class Generator {
    private Generator() {}

    /**
     * @param eosToken the token that ends a sequence, or −1 for none
     * @param useCache whether steps read a KV cache (TransformerLens's use_past_kv_cache)
     */
    public record Options(int maxNewTokens, Sampling sampling, int eosToken, boolean useCache) {
        public Options {
            if (maxNewTokens < 0) throw new JlensException("the maximum of new tokens is " + maxNewTokens + "; it must be 0 or more.");
        }
    }

    /** Hears each token as it is chosen; returning true stops that sequence after it (a stop string). */
    public interface Listener {
        boolean onToken(int sequence, int token, int[] generated);

        Listener NONE = (sequence, token, generated) -> false;
    }

    /** Each prompt's new tokens (the end-of-sequence token included when it ended one). */
    public static int[][] generate(HookedTransformer model, int[][] prompts, Options options, Listener listener) {
        Config cfg = model.cfg();
        int longest = 0;
        for (int b = 0; b < prompts.length; b++) {
            if (prompts[b].length == 0) {
                throw new JlensException("prompt " + b + " has no tokens; generation needs at least one (give a BOS token to start from nothing).");
            }
            longest = Math.max(longest, prompts[b].length);
        }
        if (prompts.length == 0) throw new JlensException("there is no prompt to continue.");
        if (longest + options.maxNewTokens() > cfg.nCtx()) {
            throw new JlensException("the prompt's " + longest + " tokens and " + options.maxNewTokens() + " new tokens exceed the model's context (n_ctx) of "
                    + cfg.nCtx() + " tokens; ask for at most " + Math.max(0, cfg.nCtx() - longest) + " new tokens.");
        }
        int pad = options.eosToken() >= 0 ? options.eosToken() : 0;
        Tokens padded = Tokens.leftPadded(pad, prompts);
        padded.check(cfg);
        return new Run(model, padded, options, listener).run();
    }

    /** One generation's state: the sequences so far, which are done, and the token counts the penalty reads. */
    private static final class Run {
        private final HookedTransformer model;
        private final Options options;
        private final Listener listener;
        private final Sampler sampler;
        private final int batch, vocab;
        private final int[] starts;
        private final int[][] sequences, counts;
        private final int[][] generated;
        private final int[] generatedCount;
        private final boolean[] done;

        Run(HookedTransformer model, Tokens prompts, Options options, Listener listener) {
            this.model = model;
            this.options = options;
            this.listener = listener;
            this.sampler = new Sampler(options.sampling());
            this.batch = prompts.batch();
            this.vocab = model.cfg().dVocab();
            this.starts = prompts.starts().clone();
            this.sequences = new int[batch][];
            this.counts = new int[batch][vocab];
            this.generated = new int[batch][options.maxNewTokens()];
            this.generatedCount = new int[batch];
            this.done = new boolean[batch];
            for (int b = 0; b < batch; b++) {
                sequences[b] = Arrays.copyOf(Arrays.copyOfRange(prompts.ids(), b * prompts.pos(), (b + 1) * prompts.pos()), prompts.pos() + options.maxNewTokens());
                for (int t = prompts.start(b); t < prompts.pos(); t++) counts[b][sequences[b][t]]++;
            }
        }

        int[][] run() {
            int length = sequences[0].length - options.maxNewTokens();
            KeyValueCache cache = options.useCache() && options.maxNewTokens() > 0
                    ? model.newKeyValueCache(batch, length + options.maxNewTokens() - 1, starts) : null;
            for (int step = 0; step < options.maxNewTokens(); step++) {
                Tensor logits = nextLogits(cache, length, step);
                int[] next = new int[batch];
                for (int b = 0; b < batch; b++) {
                    next[b] = done[b] ? fill(b, length) : choose(b, logits);
                    sequences[b][length] = next[b];
                }
                length++;
                if (allDone()) break;
            }
            int[][] out = new int[batch][];
            for (int b = 0; b < batch; b++) out[b] = Arrays.copyOf(generated[b], generatedCount[b]);
            return out;
        }

        /** The last position's logits [batch, 1, vocab]: of the new token alone through the cache, else of the whole sequence. */
        private Tensor nextLogits(KeyValueCache cache, int length, int step) {
            if (cache != null) {
                int from = step == 0 ? 0 : length - 1;
                return model.forward(window(from, length), cache, false);
            }
            Tensor all = model.forward(window(0, length));
            Tensor last = Tensor.zeros(batch, 1, vocab);
            for (int b = 0; b < batch; b++) System.arraycopy(all.data(), (b * length + length - 1) * vocab, last.data(), b * vocab, vocab);
            return last;
        }

        /** Positions from .. to − 1 of every sequence, with the prompts' left padding. */
        private Tokens window(int from, int to) {
            int n = to - from;
            int[] ids = new int[batch * n], windowStarts = new int[batch], lengths = new int[batch];
            for (int b = 0; b < batch; b++) {
                System.arraycopy(sequences[b], from, ids, b * n, n);
                windowStarts[b] = Math.max(0, Math.min(n, starts[b] - from));
                lengths[b] = n - windowStarts[b];
            }
            return new Tokens(ids, batch, n, windowStarts, lengths);
        }

        private int choose(int b, Tensor logits) {
            int token = sampler.next(logits.data(), b * vocab, vocab, counts[b]);
            counts[b][token]++;
            generated[b][generatedCount[b]++] = token;
            boolean stop = listener.onToken(b, token, Arrays.copyOf(generated[b], generatedCount[b]));
            done[b] = stop || token == options.eosToken();
            return token;
        }

        /** What a finished sequence is fed while the others go on. */
        private int fill(int b, int length) {
            return options.eosToken() >= 0 ? options.eosToken() : sequences[b][length - 1];
        }

        private boolean allDone() {
            for (boolean d : done) if (!d) return false;
            return true;
        }
    }
}
