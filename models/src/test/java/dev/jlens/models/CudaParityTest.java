package dev.jlens.models;

import static dev.jlens.testkit.Close.assertCloseToScale;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.Device;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.ActivationCache;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.kernels.cuda.CudaDriver;
import dev.jlens.models.components.Activation;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The GPU backend against the CPU one, model by model: logits, loss and every parameter's gradient
 * agree within 1e-3 relative (the largest difference over the largest magnitude of the CPU tensor;
 * a key bias's gradient, zero in exact arithmetic, must be rounding noise on both),
 * and so does every activation a hook reads (the −∞ of masked attention scores exactly). Runs only where an NVIDIA GPU answers; skipped elsewhere.
 */
@EnabledIf(value = "gpuPresent", disabledReason = "no NVIDIA GPU answers here")
class CudaParityTest {
    private static final double TOLERANCE = 1e-3;

    static boolean gpuPresent() {
        return CudaDriver.probe().available();
    }

    /** The micro configs (every architecture, shortformer too) and wider ones of GPT-2, GPT-NeoX and SoLU. */
    static Stream<Arguments> models() {
        Config gpt2 = Config.builder().family(ModelFamily.GPT2).nLayers(2).dModel(256).nHeads(8).dHead(32).dMlp(1024).dVocab(1000).nCtx(64).actFn(Activation.GELU_NEW).build();
        Config neox = Config.builder().family(ModelFamily.GPT_NEOX).nLayers(2).dModel(256).nHeads(8).dHead(32).dMlp(1024).dVocab(1000).nCtx(64).actFn(Activation.GELU).rotary(8).parallelAttnMlp(true).build();
        Config solu = Config.builder().family(ModelFamily.HOOKED_TRANSFORMER).nLayers(1).dModel(256).nHeads(8).dHead(32).dMlp(1024).dVocab(1000).nCtx(64).actFn(Activation.SOLU_LN).build();
        return Stream.concat(TestModels.all().flatMap(cfg -> Stream.of(Arguments.of(cfg, false), Arguments.of(cfg, true))),
                Stream.of(gpt2, neox, solu).map(cfg -> Arguments.of(cfg, false)));
    }

    @ParameterizedTest
    @MethodSource("models")
    void logitsLossAndEveryGradientEqualTheCpus(Config cfg, boolean attnResult) {
        HookedTransformer[] models = cpuAndGpu(cfg, 5, attnResult);
        HookedTransformer cpu = models[0], gpu = models[1];
        Tokens tokens = batch(cfg);

        Tensor gpuLogits = gpu.forward(tokens);
        assertTrue(gpuLogits.isOnDevice(), "the logits stay on the GPU until read");
        assertCloseToScale(cpu.forward(tokens).data(), gpuLogits.data(), TOLERANCE, "logits");
        assertEquals(cpu.loss(tokens), gpu.loss(tokens), TOLERANCE * cpu.loss(tokens), "loss");

        cpu.zeroGrad();
        gpu.zeroGrad();
        float cpuLoss = cpu.lossAndBackward(tokens), gpuLoss = gpu.lossAndBackward(tokens);
        assertEquals(cpuLoss, gpuLoss, TOLERANCE * cpuLoss, "loss of the training step");
        Map<String, Parameter> cpuParams = cpu.parameters(), gpuParams = gpu.parameters();
        for (String name : cpuParams.keySet()) {
            assertTrue(gpuParams.get(name).grad().isOnDevice(), name + "'s gradient stays on the GPU");
            float[] expected = cpuParams.get(name).grad().data(), actual = gpuParams.get(name).grad().data();
            if (!cfg.rotary() && name.endsWith(".attn.b_K")) {
                // Zero in exact arithmetic (a key bias shifts every score of a query alike, which softmax
                // ignores), so both sides hold rounding noise: it must be noise on both.
                double scale = largest(cpuParams.get(name.replace("b_K", "W_K")).grad().data());
                assertTrue(largest(expected) <= 1e-4 * scale && largest(actual) <= 1e-4 * scale,
                        name + ": " + largest(expected) + " (CPU) and " + largest(actual) + " (GPU) against dL/dW_K's " + scale);
                continue;
            }
            assertCloseToScale(expected, actual, TOLERANCE, "dL/d" + name);
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void everyHookedActivationEqualsTheCpus(Config cfg, boolean attnResult) {
        HookedTransformer[] models = cpuAndGpu(cfg, 6, attnResult);
        Tokens tokens = batch(cfg);
        ActivationCache expected = models[0].runWithCache(tokens, NameFilter.all()).cache();
        ActivationCache actual = models[1].runWithCache(tokens, NameFilter.all()).cache();
        assertEquals(expected.names(), actual.names());
        for (String name : expected.names()) assertCloseToScale(expected.get(name).data(), actual.get(name).data(), TOLERANCE, name);
    }

    @ParameterizedTest
    @MethodSource("models")
    void aHookThatEditsOnTheHostChangesTheGpuRunAsTheCpuRun(Config cfg, boolean attnResult) {
        HookedTransformer[] models = cpuAndGpu(cfg, 7, attnResult);
        Tokens tokens = batch(cfg);
        Tensor[] logits = new Tensor[2];
        for (int m = 0; m < 2; m++) {
            try (HookScope scope = models[m].hookPoints().scope()) {
                // Zero neuron 3 of the last MLP: the hook reads and edits the activation on the host.
                scope.forward(NameFilter.exactly("blocks." + (cfg.nLayers() - 1) + ".mlp.hook_post"), (a, p) -> {
                    float[] d = a.data();
                    for (int i = 3; i < d.length; i += cfg.dMlp()) d[i] = 0;
                    return a;
                });
                logits[m] = models[m].forward(tokens);
            }
        }
        assertCloseToScale(logits[0].data(), logits[1].data(), TOLERANCE, "logits with a zeroed neuron");
    }

    @org.junit.jupiter.api.Test
    void aTiedUnembeddingRunsAsTheEmbeddingTransposedAndTrainsAsTheCpus() {
        Config cfg = Config.builder().family(ModelFamily.GPT2).nLayers(2).dModel(256).nHeads(8).dHead(32).dMlp(1024).dVocab(1000).nCtx(64).actFn(Activation.GELU_NEW).build();
        HookedTransformer[] models = new HookedTransformer[2];
        for (int m = 0; m < 2; m++) {
            Map<String, Tensor> state = RandomWeights.of(cfg, 9, 0.2);
            state.remove("unembed.W_U");
            models[m] = HookedTransformer.fromStateDict(cfg, state);
        }
        HookedTransformer cpu = models[0], gpu = models[1].to(Device.CUDA);
        assertTrue(gpu.unembed.tied(), "moving the model made no copy of W_E for the unembedding");
        Tokens tokens = batch(cfg);
        assertCloseToScale(cpu.forward(tokens).data(), gpu.forward(tokens).data(), TOLERANCE, "logits through W_Eᵀ");
        assertEquals(cpu.lossAndBackward(tokens), gpu.lossAndBackward(tokens), TOLERANCE * cpu.loss(tokens), "loss");
        assertTrue(gpu.parameter("embed.W_E").value().isOnDevice() && gpu.parameter("unembed.W_U").value().isOnDevice(),
                "W_U, made from W_E by the backward, is on the GPU, and so is W_E still");
        for (String name : List.of("embed.W_E", "unembed.W_U", "blocks.0.attn.W_Q")) {
            assertCloseToScale(cpu.parameter(name).grad().data(), gpu.parameter(name).grad().data(), TOLERANCE, "dL/d" + name);
        }
    }

    /** The same random model twice, the second on the GPU. */
    private static HookedTransformer[] cpuAndGpu(Config cfg, long seed, boolean attnResult) {
        HookedTransformer cpu = TestModels.random(cfg, seed), gpu = TestModels.random(cfg, seed).to(Device.CUDA);
        cpu.setUseAttnResult(attnResult);
        gpu.setUseAttnResult(attnResult);
        return new HookedTransformer[] {cpu, gpu};
    }

    /** Three sequences of different lengths, right-padded. */
    private static Tokens batch(Config cfg) {
        int n = Math.min(cfg.nCtx(), 40);
        return Tokens.padded(0, TestModels.randomTokens(cfg, n, 1), TestModels.randomTokens(cfg, n - 7, 2), TestModels.randomTokens(cfg, 5, 3));
    }

    private static double largest(float[] values) {
        double m = 0;
        for (float v : values) m = Math.max(m, Math.abs(v));
        return m;
    }
}
