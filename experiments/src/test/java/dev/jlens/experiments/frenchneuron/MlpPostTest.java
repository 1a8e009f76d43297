package dev.jlens.experiments.frenchneuron;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.models.Config;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.ModelFamily;
import dev.jlens.models.RandomWeights;
import dev.jlens.models.Tokens;
import dev.jlens.models.components.Activation;
import org.junit.jupiter.api.Test;

class MlpPostTest {
    @Test
    void stoppingAfterTheBlockReadsWhatTheWholeForwardPassReads() {
        Config cfg = Config.builder().family(ModelFamily.GPT_NEOX).nLayers(3).dModel(16).nHeads(2).dHead(8).dMlp(32).dVocab(41).nCtx(24).actFn(Activation.GELU).rotary(4).parallelAttnMlp(true).build();
        HookedTransformer model = HookedTransformer.fromStateDict(cfg, RandomWeights.of(cfg, 5, 0.3));
        Tokens tokens = Tokens.padded(0, new int[][] {{40, 3, 17, 9, 22, 5, 31}, {40, 8, 2}});
        for (int layer = 0; layer < cfg.nLayers(); layer++) {
            Tensor[] whole = new Tensor[1];
            try (HookScope scope = model.hookPoints().scope()) {
                scope.forward("blocks." + layer + ".mlp.hook_post", (act, point) -> { whole[0] = act; return null; });
                model.forward(tokens);
            }
            Tensor stopped = FrenchNeuron.mlpPost(model, tokens, layer);
            assertArrayEquals(whole[0].shape(), stopped.shape());
            assertArrayEquals(whole[0].data(), stopped.data(), "layer " + layer);
        }
    }
}
