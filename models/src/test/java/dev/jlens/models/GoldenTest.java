package dev.jlens.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.engine.safetensors.SafetensorsFile;
import dev.jlens.models.loading.ModelLoader;
import dev.jlens.testkit.Shared;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Logits, every hook activation, the loss and every parameter gradient against an independent
 * float64 implementation (../shared/golden). These catch layout and convention errors (the q/k/v
 * split, rotary halves, GELU variants) that finite differences cannot.
 */
class GoldenTest {
    /** Worst |actual − expected| over a tensor, relative to its largest |expected|. */
    private static final double TOLERANCE = 1e-5;
    /**
     * Absolute floor for tensors that are zero in exact arithmetic: GPT-2's b_K gradient is
     * (a key bias shifts a whole row of scores, which softmax ignores), so float32 leaves only
     * rounding noise of ~1e-8 where the float64 reference has ~1e-19.
     */
    private static final double ZERO_FLOOR = 1e-7;

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-micro", "pythia-micro", "llama-micro", "qwen2-micro", "qwen3-micro", "mistral-micro", "gemma2-micro"})
    void activationsMatchEveryHookPoint(String name) throws IOException {
        Path dir = Shared.path("golden/" + name);
        HookedTransformer model = ModelLoader.load(dir);
        Tokens tokens = tokens(dir);
        HookedTransformer.CachedRun run = model.runWithCache(tokens, NameFilter.all());
        List<String> failures = new ArrayList<>();
        try (SafetensorsFile golden = SafetensorsFile.open(dir.resolve("activations.safetensors"))) {
            for (String hook : golden.names()) {
                Tensor expected = golden.read(hook);
                Tensor actual = hook.equals("logits") ? run.logits() : run.cache().get(hook);
                compare(hook, expected, actual, failures);
            }
            List<String> ours = new ArrayList<>(run.cache().names());
            ours.removeAll(golden.names());
            // The reference records no hooks inside Qwen3's q_norm and k_norm (TransformerLens's RMSNorm has them); hook_q/k
            // before them and hook_rot_q/k after them are compared.
            ours.removeIf(hook -> hook.matches("blocks\\.\\d+\\.attn\\.[qk]_norm\\.hook_(scale|normalized)"));
            assertEquals(List.of(), ours, "hook points that fired but the reference does not have");
        }
        if (!failures.isEmpty()) fail(String.join("\n", failures));
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-micro", "pythia-micro", "llama-micro", "qwen2-micro", "qwen3-micro", "mistral-micro", "gemma2-micro"})
    void lossAndEveryParameterGradientMatch(String name) throws IOException {
        Path dir = Shared.path("golden/" + name);
        HookedTransformer model = ModelLoader.load(dir);
        float loss = model.lossAndBackward(tokens(dir));
        List<String> failures = new ArrayList<>();
        try (SafetensorsFile golden = SafetensorsFile.open(dir.resolve("grads.safetensors"))) {
            assertEquals(golden.read("loss").data()[0], loss, 1e-5 * Math.abs(loss), "loss");
            for (String param : golden.names()) {
                if (param.equals("loss")) continue;
                compare(param, golden.read(param), model.parameter(param).grad(), failures);
            }
            assertTrue(golden.names().containsAll(model.parameters().keySet()), "a gradient for every parameter");
        }
        if (!failures.isEmpty()) fail(String.join("\n", failures));
    }

    static Tokens tokens(Path dir) throws IOException {
        return Tokens.of(Arrays.stream(Files.readString(dir.resolve("tokens.txt")).trim().split(","))
                .mapToInt(s -> Integer.parseInt(s.trim())).toArray());
    }

    private static void compare(String name, Tensor expected, Tensor actual, List<String> failures) {
        if (!Arrays.equals(expected.shape(), actual.shape())) {
            failures.add(name + ": shape " + actual.shapeString() + " != " + expected.shapeString());
            return;
        }
        double scale = 0, worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.size(); i++) {
            float e = expected.data()[i], a = actual.data()[i];
            if (Float.isInfinite(e)) {
                if (e != a) failures.add(name + ": at " + i + " expected " + e + " but was " + a);
                continue;
            }
            scale = Math.max(scale, Math.abs(e));
            double err = Math.abs((double) a - e);
            if (!(err <= worst)) {
                worst = err;
                worstAt = i;
            }
        }
        double relative = worst / Math.max(scale, 1e-30);
        if (!(worst <= TOLERANCE * scale || worst <= ZERO_FLOOR)) {
            failures.add(String.format("%s: relative error %.2e at %d (expected %s, was %s)", name, relative, worstAt,
                    expected.data()[worstAt], actual.data()[worstAt]));
        }
    }
}
