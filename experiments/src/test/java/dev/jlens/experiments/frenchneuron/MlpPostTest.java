package dev.jlens.experiments.frenchneuron;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.models.components.Activation;
import dev.jlens.models.Config;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.RandomWeights;
import dev.jlens.models.Tokens;
import org.junit.jupiter.api.Test;

class MlpPostTest {
    @Test
    void stoppingAfterTheBlockReadsWhatTheWholeForwardPassReads() {
        Config cfg = new Config("gpt_neox", 3, 16, 2, 8, 32, 41, 24, 1e-5f, Activation.GELU, 4, 10000, true, false, 0, false);
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
