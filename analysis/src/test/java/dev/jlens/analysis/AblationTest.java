package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.models.Config;
import dev.jlens.models.CrossEntropy;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class AblationTest {
    static Stream<Config> configs() {
        return CacheAnalysisTest.configs();
    }

    @ParameterizedTest
    @MethodSource("configs")
    void zeroAblatingEveryNeuronOfALayerIsZeroingItsOutputWeights(Config cfg) {
        HookedTransformer model = CacheAnalysisTest.model(cfg, 11);
        Tokens tokens = CacheAnalysisTest.tokens(cfg);
        int layer = cfg.nLayers() - 1;
        int[] all = IntStream.range(0, cfg.dMlp()).toArray();
        Ablation.LossChange change = Ablation.lossChange(model, tokens, ActNames.of("post", layer), Ablation.neurons(all, new float[all.length]));
        HookedTransformer withoutMlp = HookedTransformer.fromStateDict(cfg, zeroed(model, "blocks." + layer + ".mlp.W_out"));
        assertEquals(CrossEntropy.mean(withoutMlp.forward(tokens), tokens), change.ablated(), 1e-6);
        assertEquals(CrossEntropy.mean(model.forward(tokens), tokens), change.original(), 0);
    }

    @ParameterizedTest
    @MethodSource("configs")
    void zeroAblatingAHeadIsZeroingItsOutputWeights(Config cfg) {
        HookedTransformer model = CacheAnalysisTest.model(cfg, 12);
        Tokens tokens = CacheAnalysisTest.tokens(cfg);
        Ablation.LossChange change = Ablation.lossChange(model, tokens, ActNames.of("z", 0), Ablation.head(1, new float[cfg.dHead()]));
        Map<String, Tensor> state = zeroed(model, null);
        Tensor wO = state.get("blocks.0.attn.W_O");
        java.util.Arrays.fill(wO.data(), cfg.dHead() * cfg.dModel(), 2 * cfg.dHead() * cfg.dModel(), 0f); // head 1
        assertEquals(CrossEntropy.mean(HookedTransformer.fromStateDict(cfg, state).forward(tokens), tokens), change.ablated(), 1e-6);
    }

    @ParameterizedTest
    @MethodSource("configs")
    void ablatingAPositionLeavesEveryEarlierLossExactlyAsItWas(Config cfg) {
        HookedTransformer model = CacheAnalysisTest.model(cfg, 13);
        Tokens tokens = CacheAnalysisTest.tokens(cfg);
        String site = ActNames.of("resid_pre", 1);
        Tensor before = CrossEntropy.perToken(model.forward(tokens), tokens), after;
        try (HookScope scope = model.hookPoints().scope()) {
            scope.forward(site, Ablation.positions(new int[] {5}, new float[cfg.dModel()]));
            after = CrossEntropy.perToken(model.forward(tokens), tokens);
        }
        int pos = tokens.pos() - 1;
        for (int b = 0; b < tokens.batch(); b++) {
            for (int t = 0; t < 5; t++) assertEquals(before.get(b, t), after.get(b, t), "prompt " + b + " position " + t);
            assertTrue(before.get(b, pos - 1) != after.get(b, pos - 1), "later positions change");
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void meansOverPositionsSkipPadding(Config cfg) {
        HookedTransformer model = CacheAnalysisTest.model(cfg, 14);
        Tokens full = CacheAnalysisTest.tokens(cfg);
        int[] first = java.util.Arrays.copyOf(full.ids(), 6), second = java.util.Arrays.copyOfRange(full.ids(), full.pos(), 2 * full.pos());
        Tokens padded = Tokens.padded(cfg.dVocab() - 1, first, second), alone = Tokens.of(first), other = Tokens.of(second);
        String post = ActNames.of("post", 0);
        float[] paddedMean = Ablation.meanOverPositions(model.runWithCache(padded, NameFilter.exactly(post)).cache().get(post), padded);
        Tensor a = model.runWithCache(alone, NameFilter.exactly(post)).cache().get(post), b = model.runWithCache(other, NameFilter.exactly(post)).cache().get(post);
        for (int i = 0; i < cfg.dMlp(); i++) {
            double sum = 0;
            for (int p = 0; p < 6; p++) sum += a.get(0, p, i);
            for (int p = 0; p < full.pos(); p++) sum += b.get(0, p, i);
            assertEquals(sum / (6 + full.pos()), paddedMean[i], 1e-5, "neuron " + i);
        }
    }

    private static Map<String, Tensor> zeroed(HookedTransformer model, String name) {
        Map<String, Tensor> state = new LinkedHashMap<>();
        for (Parameter p : model.parameters().values()) state.put(p.name(), p.value().copy());
        if (name != null) java.util.Arrays.fill(state.get(name).data(), 0f);
        return state;
    }
}
