package dev.jlens.experiments.cli;

import dev.jlens.engine.JlensException;
import dev.jlens.models.LoadedModel;
import dev.jlens.models.WeightProcessing;
import dev.jlens.models.loading.ModelLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --model M}: a model directory (config.json + model.safetensors). */
final class ModelOption {
    @Option(names = "--model", paramLabel = "M", required = true,
            description = "a model directory holding config.json and model.safetensors")
    String model;

    @Option(names = "--process", paramLabel = "STEPS", defaultValue = "default",
            description = "TransformerLens weight processing: default (fold_ln, center_writing_weights, center_unembed, "
                    + "fold_value_biases, as from_pretrained), none, or a comma-separated list of steps, "
                    + "e.g. default,refactor_factored_attn_matrices (default: ${DEFAULT-VALUE})")
    String process;

    LoadedModel load() {
        Path dir = Path.of(model);
        if (!Files.exists(dir)) throw new JlensException("--model " + model + ": no such model directory.");
        WeightProcessing.Options options = WeightProcessing.Options.parse(process);
        if (options.refactorFactoredAttnMatrices() && ModelLoader.config(dir).rotary()) {
            throw new JlensException("--process: refactor_factored_attn_matrices cannot be applied to " + model
                    + ", a rotary model (its QK matrix depends on positions).");
        }
        return LoadedModel.load(dir, options);
    }
}
