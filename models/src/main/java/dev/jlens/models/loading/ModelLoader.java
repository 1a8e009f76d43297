package dev.jlens.models.loading;

import dev.jlens.engine.DataType;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.checkpoint.Checkpoint;
import dev.jlens.engine.checkpoint.TorchCheckpoint;
import dev.jlens.engine.safetensors.SafetensorsFile;
import dev.jlens.models.Config;
import dev.jlens.models.HeldTypes;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.WeightProcessing;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads a model directory: {@code config.json} (Hugging Face's, or TransformerLens's own for models
 * such as the SoLU ones) and the weights, {@code model.safetensors} or else a PyTorch checkpoint
 * ({@code pytorch_model.bin}, {@code *.pth}), whose tensors are in the Hugging Face layout of the
 * config's architecture or already in TransformerLens's names ({@code embed.W_E}, ...). Foreign
 * layouts are translated once, here.
 */
public final class ModelLoader {
    private ModelLoader() {}

    /** The model as its checkpoint has it, unprocessed. */
    public static HookedTransformer load(Path dir) {
        return load(dir, WeightProcessing.Options.NONE);
    }

    /** The model with TransformerLens's weight processing applied as {@code options} say, its weights as stored. */
    public static HookedTransformer load(Path dir, WeightProcessing.Options options) {
        return load(dir, options, null);
    }

    /**
     * As {@link #load(Path, WeightProcessing.Options)}, the weight matrices held as {@code dtype}
     * (as stored when null; see {@link HeldTypes}). Processing computes in float32 and stores the
     * matrices back in their type.
     */
    public static HookedTransformer load(Path dir, WeightProcessing.Options options, DataType dtype) {
        Config cfg = config(dir);
        Map<String, Tensor> state;
        try (Checkpoint file = openWeights(dir)) {
            state = stateDict(file, cfg, dtype);
        }
        if (!options.equals(WeightProcessing.Options.NONE)) WeightProcessing.applyInPlace(cfg, state, options);
        return HookedTransformer.fromStateDict(cfg, state);
    }

    /** The directory's weights: model.safetensors, else its shards' index, else pytorch_model.bin, else its one *.pth file. */
    public static Checkpoint openWeights(Path dir) {
        if (Files.isRegularFile(dir.resolve("model.safetensors"))) return SafetensorsFile.open(dir.resolve("model.safetensors"));
        if (Files.isRegularFile(dir.resolve("model.safetensors.index.json"))) {
            return dev.jlens.engine.safetensors.ShardedCheckpoint.open(dir.resolve("model.safetensors.index.json"));
        }
        if (Files.isRegularFile(dir.resolve("pytorch_model.bin"))) return TorchCheckpoint.open(dir.resolve("pytorch_model.bin"));
        try (var files = Files.list(dir)) {
            List<Path> pth = files.filter(f -> f.getFileName().toString().endsWith(".pth")).sorted().toList();
            if (pth.size() == 1) return TorchCheckpoint.open(pth.get(0));
            if (pth.size() > 1) throw new JlensException(dir + ": has several .pth files " + pth + "; keep the one to load.");
        } catch (java.io.IOException e) {
            throw new JlensException(dir + ": cannot be listed (" + JlensException.describe(e) + ").", e);
        }
        throw new JlensException(dir + ": has no model.safetensors, model.safetensors.index.json, pytorch_model.bin or .pth weights.");
    }

    /**
     * Neel Nanda's old SoLU checkpoints (solu-1l and kin), as TransformerLens converts them: their
     * norms are named norm (the final one plain "norm"), models of up to 6 layers store every
     * weight matrix output-major ([out, in]), and models of up to 8 layers store W_pos transposed.
     */
    static Map<String, Tensor> fromOldSolu(Map<String, Tensor> old, Config cfg) {
        Map<String, Tensor> state = new LinkedHashMap<>();
        old.forEach((name, t) -> {
            String renamed = name.replace("norm", "ln");
            state.put(renamed.startsWith("ln.") ? "ln_final." + renamed.substring(3) : renamed, t);
        });
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            String name = e.getKey();
            boolean transposed = name.equals("pos_embed.W_pos") ? cfg.nLayers() <= 8 : name.contains("W_") && cfg.nLayers() <= 6;
            if (transposed) e.setValue(e.getValue().transposeLastTwo());
        }
        return state;
    }

    /** The directory's config.json. */
    public static Config config(Path dir) {
        if (!Files.isDirectory(dir)) throw new JlensException(dir + ": no such model directory.");
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) throw new JlensException(dir + ": has no config.json.");
        return ConfigFile.read(configFile);
    }

    /** The checkpoint's tensors under TransformerLens names, as stored. */
    public static Map<String, Tensor> stateDict(Checkpoint file, Config cfg) {
        return stateDict(file, cfg, null);
    }

    /** The checkpoint's tensors under TransformerLens names, the matrices held as {@code dtype} (as stored when null). */
    public static Map<String, Tensor> stateDict(Checkpoint file, Config cfg, DataType dtype) {
        DataType held = dtype != null ? dtype : file.storedType();
        Map<String, Tensor> state;
        if (file.contains("embed.W_E")) {
            state = new LinkedHashMap<>();
            for (String name : file.names()) state.put(name, file.read(name, HeldTypes.isMatrix(name) ? held : DataType.FLOAT32, Arena.ofAuto()));
            if (file.contains("norm.w")) state = fromOldSolu(state, cfg);
        } else {
            state = switch (cfg.family()) {
                case GPT2 -> Gpt2Weights.read(file, cfg, held);
                case GPT_NEOX -> NeoxWeights.read(file, cfg, held);
                case LLAMA, QWEN2, QWEN3, MISTRAL, GEMMA2 -> LlamaWeights.read(file, cfg, held);
                case HOOKED_TRANSFORMER -> throw new JlensException(file.path() + ": has no TransformerLens-named weights (embed.W_E, ...), "
                        + "which a model with a TransformerLens config needs.");
            };
        }
        HeldTypes.hold(state, held);
        return state;
    }
}
