package dev.jlens.models.generation;

import static dev.jlens.testkit.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.ActivationCache;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.models.Config;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.TestModels;
import dev.jlens.models.Tokens;
import dev.jlens.models.components.KeyValueCache;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Generation on every architecture: the KV cache against recomputing the whole sequence, left-padded
 * batches against each prompt alone, hooks during generation, sampling and stopping.
 */
class GenerationTest {
    static Stream<Config> configs() {
        return TestModels.all();
    }

    /** Prompts of lengths 3, 8 and 5 (the mistral-like window is 5, so it slides within them). */
    private static int[][] prompts(Config cfg) {
        return new int[][] {TestModels.randomTokens(cfg, 3, 5), TestModels.randomTokens(cfg, 8, 6), TestModels.randomTokens(cfg, 5, 7)};
    }

    private static Generator.Options greedy(int newTokens, boolean useCache) {
        return new Generator.Options(newTokens, Sampling.greedy(), -1, useCache);
    }

    /** Logits of sequence b's real positions, [length, vocab] flattened. */
    private static float[] realRows(Tensor logits, Tokens tokens, int b) {
        int vocab = logits.dim(2);
        return Arrays.copyOfRange(logits.data(), (b * tokens.pos() + tokens.start(b)) * vocab, (b * tokens.pos() + tokens.end(b)) * vocab);
    }

    @ParameterizedTest
    @MethodSource("configs")
    void aLeftPaddedBatchGivesEachPromptItsLogitsAloneAndItsLoss(Config cfg) {
        HookedTransformer model = TestModels.random(cfg, 1);
        int[][] prompts = prompts(cfg);
        Tokens batch = Tokens.leftPadded(0, prompts);
        Tensor logits = model.forward(batch);
        double lossSum = 0;
        int predicting = 0;
        for (int b = 0; b < prompts.length; b++) {
            Tokens alone = Tokens.of(prompts[b]);
            assertClose(model.forward(alone).data(), realRows(logits, batch, b), 1e-5, 1e-5, cfg.family() + " prompt " + b);
            lossSum += model.loss(alone) * (prompts[b].length - 1);
            predicting += prompts[b].length - 1;
        }
        assertEquals(lossSum / predicting, model.loss(batch), 1e-5, "the loss skips left padding");
        // TransformerLens's attention mask gives the same batch.
        Tokens masked = Tokens.masked(batch.ids(), batch.batch(), batch.pos(), batch.attentionMask());
        assertArrayEquals(logits.data(), model.forward(masked).data());
    }

    /** The backward through masks and offset positions: the batch's mean-loss gradient is the prompts' alone, weighted by their predictions. */
    @ParameterizedTest
    @MethodSource("configs")
    void theLossGradientOfALeftPaddedBatchIsThePromptsGradientsAlone(Config cfg) {
        HookedTransformer model = TestModels.random(cfg, 1);
        int[][] prompts = prompts(cfg);
        int predicting = 0;
        for (int[] p : prompts) predicting += p.length - 1;
        java.util.Map<String, double[]> expected = new java.util.LinkedHashMap<>();
        for (int[] p : prompts) {
            model.zeroGrad();
            model.lossAndBackward(Tokens.of(p));
            double weight = (p.length - 1.0) / predicting;
            for (dev.jlens.engine.Parameter param : model.parameters().values()) {
                double[] sum = expected.computeIfAbsent(param.name(), n -> new double[param.grad().size()]);
                float[] g = param.grad().data();
                for (int i = 0; i < g.length; i++) sum[i] += weight * g[i];
            }
        }
        model.zeroGrad();
        model.lossAndBackward(Tokens.leftPadded(0, prompts));
        for (dev.jlens.engine.Parameter param : model.parameters().values()) {
            double[] e = expected.get(param.name());
            float[] want = new float[e.length];
            for (int i = 0; i < e.length; i++) want[i] = (float) e[i];
            assertClose(want, param.grad().data(), 1e-4, 1e-5, cfg.family() + " " + param.name());
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void runWithCacheOfALeftPaddedBatchHoldsEachPromptsActivationsAlone(Config cfg) {
        HookedTransformer model = TestModels.random(cfg, 1);
        int[][] prompts = prompts(cfg);
        Tokens batch = Tokens.leftPadded(0, prompts);
        ActivationCache batched = model.runWithCache(batch, NameFilter.all()).cache();
        int b = 0; // the shortest, with the most padding
        ActivationCache alone = model.runWithCache(Tokens.of(prompts[b]), NameFilter.all()).cache();
        for (String name : alone.names()) {
            Tensor a = alone.get(name), x = batched.get(name);
            if (name.endsWith("hook_attn_scores") || name.endsWith("hook_pattern")) {
                // [batch, head, query, key]: the real queries' rows, over the real keys.
                int heads = a.dim(1), t = a.dim(2), pos = batch.pos(), start = batch.start(b);
                for (int h = 0; h < heads; h++) for (int i = 0; i < t; i++) for (int j = 0; j <= i; j++) {
                    assertEquals(a.get(0, h, i, j), x.get(b, h, start + i, start + j), 1e-5, name);
                }
                continue;
            }
            int width = a.size() / a.dim(1), pos = batch.pos();
            float[] rows = Arrays.copyOfRange(x.data(), (b * pos + batch.start(b)) * width, (b * pos + pos) * width);
            assertClose(a.data(), rows, 1e-5, 1e-5, name);
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void theKvCacheGivesTheLogitsOfTheWholeSequence(Config cfg) {
        HookedTransformer model = TestModels.random(cfg, 1);
        int[] sequence = TestModels.randomTokens(cfg, 14, 9);
        Tensor whole = model.forward(Tokens.of(sequence));
        KeyValueCache cache = model.newKeyValueCache(1, 14, null);
        int vocab = cfg.dVocab();
        // A prompt of 4, one token, three at once, then one at a time: queries after cached keys in every shape.
        int[] steps = {4, 1, 3, 1, 1, 1, 1, 1, 1};
        int at = 0;
        for (int n : steps) {
            Tensor logits = model.forward(Tokens.of(Arrays.copyOfRange(sequence, at, at + n)), cache, true);
            assertClose(Arrays.copyOfRange(whole.data(), at * vocab, (at + n) * vocab), logits.data(), 1e-5, 1e-5, cfg.family() + " positions " + at + ".." + (at + n - 1));
            at += n;
        }
        assertEquals(14, cache.length());
        assertEquals(cfg.nKeyValueHeads(), cache.layer(0).keys().dim(2), "the cache holds the key/value heads only");
        assertThrows(JlensException.class, () -> model.forward(Tokens.of(sequence[0]), cache, false));
    }

    @ParameterizedTest
    @MethodSource("configs")
    void greedyWithTheCacheEqualsRecomputingTheWholeSequenceAtEveryStep(Config cfg) {
        HookedTransformer model = TestModels.random(cfg, 1);
        int[][] prompts = prompts(cfg);
        int[][] cached = Generator.generate(model, prompts, greedy(10, true), Generator.Listener.NONE);
        int[][] recomputed = Generator.generate(model, prompts, greedy(10, false), Generator.Listener.NONE);
        for (int b = 0; b < prompts.length; b++) {
            assertEquals(10, cached[b].length);
            assertArrayEquals(recomputed[b], cached[b], cfg.family() + " prompt " + b);
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void eachPromptOfABatchContinuesAsItDoesAloneWithItsLogitsAlone(Config cfg) {
        HookedTransformer model = TestModels.random(cfg, 1);
        int[][] prompts = prompts(cfg);
        int[][] batched = Generator.generate(model, prompts, greedy(8, true), Generator.Listener.NONE);
        for (int b = 0; b < prompts.length; b++) {
            int[] alone = Generator.generate(model, new int[][] {prompts[b]}, greedy(8, true), Generator.Listener.NONE)[0];
            assertArrayEquals(alone, batched[b], cfg.family() + " prompt " + b);
        }
        // Step by step through the caches: the batch's last-position logits are each prompt's alone.
        Tokens batch = Tokens.leftPadded(0, prompts);
        KeyValueCache batchCache = model.newKeyValueCache(3, batch.pos() + 4, batch.starts());
        List<KeyValueCache> aloneCaches = new ArrayList<>();
        for (int[] p : prompts) aloneCaches.add(model.newKeyValueCache(1, p.length + 4, null));
        Tensor logits = model.forward(batch, batchCache, false);
        for (int step = 0; step < 4; step++) {
            int[] next = new int[3];
            for (int b = 0; b < 3; b++) {
                Tokens in = step == 0 ? Tokens.of(prompts[b]) : Tokens.of(batched[b][step - 1]);
                Tensor alone = model.forward(in, aloneCaches.get(b), false);
                assertClose(alone.data(), Arrays.copyOfRange(logits.data(), b * cfg.dVocab(), (b + 1) * cfg.dVocab()), 1e-5, 1e-5,
                        cfg.family() + " step " + step + " prompt " + b);
                next[b] = batched[b][step];
            }
            logits = model.forward(new Tokens(next, 3, 1, new int[] {1, 1, 1}), batchCache, false);
        }
    }

    /**
     * A hook adding a direction to blocks.0.hook_resid_post fires at every step, on the new
     * positions: it changes the continuation, and recomputing the whole sequence under the same
     * hook gives the same changed continuation.
     */
    @ParameterizedTest
    @MethodSource("configs")
    void aSteeringHookChangesTheContinuationAsItChangesTheFullRecomputation(Config cfg) {
        HookedTransformer model = TestModels.random(cfg, 1);
        int[][] prompts = {prompts(cfg)[1]};
        int[] plain = Generator.generate(model, prompts, greedy(10, true), Generator.Listener.NONE)[0];
        float[] direction = new float[cfg.dModel()];
        for (int i = 0; i < direction.length; i++) direction[i] = (float) Math.sin(3 * i + 1) * 4;
        int[] positionsSeen = {0, 0};
        int[] steeredCached, steeredRecomputed;
        try (HookScope scope = model.hookPoints().scope()) {
            scope.forward("blocks.0.hook_resid_post", (act, point) -> {
                positionsSeen[0] += act.dim(1);
                positionsSeen[1]++;
                Tensor out = act.copy();
                for (int r = 0; r < out.size() / direction.length; r++) for (int i = 0; i < direction.length; i++) out.data()[r * direction.length + i] += direction[i];
                return out;
            });
            steeredCached = Generator.generate(model, prompts, greedy(10, true), Generator.Listener.NONE)[0];
            assertEquals(8 + 9, positionsSeen[0], "the prompt's 8 positions, then one per step (the last token is never run)");
            assertEquals(10, positionsSeen[1], "the hook fired at every step");
            steeredRecomputed = Generator.generate(model, prompts, greedy(10, false), Generator.Listener.NONE)[0];
        }
        assertFalse(Arrays.equals(plain, steeredCached), cfg.family() + ": steering changed nothing " + Arrays.toString(plain));
        assertArrayEquals(steeredRecomputed, steeredCached);
    }

    @Test
    void seededSamplingIsReproducibleAndTheSeedMatters() {
        Config cfg = TestModels.llamaLike();
        HookedTransformer model = TestModels.random(cfg, 1);
        int[][] prompts = prompts(cfg);
        Generator.Options a = new Generator.Options(12, new Sampling(1.5, 0, 1, 0, 42), -1, true);
        int[][] first = Generator.generate(model, prompts, a, Generator.Listener.NONE);
        int[][] again = Generator.generate(model, prompts, a, Generator.Listener.NONE);
        int[][] other = Generator.generate(model, prompts, new Generator.Options(12, new Sampling(1.5, 0, 1, 0, 43), -1, true), Generator.Listener.NONE);
        assertTrue(Arrays.deepEquals(first, again));
        assertFalse(Arrays.deepEquals(first, other));
        int[][] greedy = Generator.generate(model, prompts, greedy(12, true), Generator.Listener.NONE);
        int[][] topOne = Generator.generate(model, prompts, new Generator.Options(12, new Sampling(1, 1, 1, 0, 7), -1, true), Generator.Listener.NONE);
        int[][] tinyNucleus = Generator.generate(model, prompts, new Generator.Options(12, new Sampling(1, 0, 1e-6, 0, 7), -1, true), Generator.Listener.NONE);
        assertTrue(Arrays.deepEquals(greedy, topOne), "top-k 1 is greedy");
        assertTrue(Arrays.deepEquals(greedy, tinyNucleus), "a nucleus of the first token alone is greedy");
    }

    @Test
    void aLargeFrequencyPenaltyNeverRepeatsAToken() {
        Config cfg = TestModels.gpt2();
        HookedTransformer model = TestModels.random(cfg, 1);
        int[] prompt = {1, 2, 3};
        int[] out = Generator.generate(model, new int[][] {prompt}, new Generator.Options(20, new Sampling(1, 0, 1, 1000, 3), -1, true), Generator.Listener.NONE)[0];
        long distinct = Stream.of(prompt, out).flatMapToInt(Arrays::stream).distinct().count();
        assertEquals(prompt.length + out.length, distinct, Arrays.toString(out));
    }

    @Test
    void aSequenceStopsAtTheEndTokenOrWhenTheListenerSaysSo() {
        Config cfg = TestModels.neox();
        HookedTransformer model = TestModels.random(cfg, 1);
        int[][] prompts = prompts(cfg);
        int[][] free = Generator.generate(model, prompts, greedy(10, true), Generator.Listener.NONE);
        int eos = free[1][3];
        int[][] stopped = Generator.generate(model, prompts, new Generator.Options(10, Sampling.greedy(), eos, true), Generator.Listener.NONE);
        int firstEos = 0;
        while (free[1][firstEos] != eos) firstEos++;
        assertArrayEquals(Arrays.copyOf(free[1], firstEos + 1), stopped[1], "ends with the end token");
        for (int b : new int[] {0, 2}) {
            int end = 0;
            while (end < 10 && free[b][end] != eos) end++;
            assertArrayEquals(Arrays.copyOf(free[b], Math.min(10, end + 1)), stopped[b], "the others go on as alone");
        }
        int[][] byListener = Generator.generate(model, prompts, greedy(10, true), (sequence, token, generated) -> sequence == 0 && generated.length == 2);
        assertArrayEquals(Arrays.copyOf(free[0], 2), byListener[0]);
        assertArrayEquals(free[2], byListener[2]);
    }

    @Test
    void badRequestsAreRefusedInOneSentence() {
        Config cfg = TestModels.gpt2(); // n_ctx 24
        HookedTransformer model = TestModels.random(cfg, 1);
        JlensException tooLong = assertThrows(JlensException.class,
                () -> Generator.generate(model, new int[][] {{1, 2, 3, 4}}, greedy(21, true), Generator.Listener.NONE));
        assertEquals("the prompt's 4 tokens and 21 new tokens exceed the model's context (n_ctx) of 24 tokens; ask for at most 20 new tokens.", tooLong.getMessage());
        assertTrue(assertThrows(JlensException.class, () -> Generator.generate(model, new int[][] {{}}, greedy(2, true), Generator.Listener.NONE))
                .getMessage().startsWith("prompt 0 has no tokens"));
        assertEquals("the temperature is -0.5; it must be 0 (greedy) or more.", assertThrows(JlensException.class, () -> new Sampling(-0.5, 0, 1, 0, 0)).getMessage());
        assertEquals("top-p is 0.0; it must be in (0, 1].", assertThrows(JlensException.class, () -> new Sampling(1, 0, 0, 0, 0)).getMessage());
        assertEquals("top-p is 1.5; it must be in (0, 1].", assertThrows(JlensException.class, () -> new Sampling(1, 0, 1.5, 0, 0)).getMessage());
        assertEquals("top-k is -1; it must be at least 1.", assertThrows(JlensException.class, () -> new Sampling(1, -1, 1, 0, 0)).getMessage());
    }
}
