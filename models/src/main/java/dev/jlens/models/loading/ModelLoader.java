package dev.jlens.models.loading;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.safetensors.SafetensorsFile;
import dev.jlens.models.Config;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.WeightProcessing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Loads a model directory: {@code config.json} (Hugging Face) and {@code model.safetensors}, whose
 * tensors are in the Hugging Face layout of the config's architecture or already in
 * TransformerLens's names ({@code embed.W_E}, ...). Foreign layouts are translated once, here.
 */
public final class ModelLoader {
    private ModelLoader() {}

    /** The model as its checkpoint has it, unprocessed. */
    public static HookedTransformer load(Path dir) {
        return load(dir, WeightProcessing.Options.NONE);
    }

    /** The model with TransformerLens's weight processing applied as {@code options} say. */
    public static HookedTransformer load(Path dir, WeightProcessing.Options options) {
        Config cfg = config(dir);
        Path weightsFile = dir.resolve("model.safetensors");
        if (!Files.isRegularFile(weightsFile)) throw new JlensException(dir + ": has no model.safetensors.");
        Map<String, Tensor> state;
        try (SafetensorsFile file = SafetensorsFile.open(weightsFile)) {
            state = stateDict(file, cfg);
        }
        if (!options.equals(WeightProcessing.Options.NONE)) state = WeightProcessing.apply(cfg, state, options);
        return HookedTransformer.fromStateDict(cfg, state);
    }

    /** The directory's config.json. */
    public static Config config(Path dir) {
        if (!Files.isDirectory(dir)) throw new JlensException(dir + ": no such model directory.");
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) throw new JlensException(dir + ": has no config.json.");
        return HuggingFaceConfig.read(configFile);
    }

    /** The checkpoint's tensors under TransformerLens names. */
    public static Map<String, Tensor> stateDict(SafetensorsFile file, Config cfg) {
        if (file.contains("embed.W_E")) {
            Map<String, Tensor> state = new LinkedHashMap<>();
            for (String name : file.names()) state.put(name, file.read(name));
            return state;
        }
        return switch (cfg.architecture()) {
            case "gpt2" -> Gpt2Weights.read(file, cfg);
            case "gpt_neox" -> NeoxWeights.read(file, cfg);
            default -> throw new JlensException(file.path() + ": jlens cannot read weights of architecture " + cfg.architecture() + ".");
        };
    }
}
