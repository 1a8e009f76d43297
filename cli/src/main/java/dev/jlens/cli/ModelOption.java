package dev.jlens.cli;

import dev.jlens.engine.DataType;
import dev.jlens.engine.Device;
import dev.jlens.engine.JlensException;
import dev.jlens.models.ParameterShapes;
import dev.jlens.models.WeightProcessing;
import dev.jlens.models.hub.ModelLocator;
import dev.jlens.models.hub.ShippedModels;
import dev.jlens.models.loading.LoadedModel;
import dev.jlens.models.loading.ModelLoader;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code --model M} (a model directory or a shipped model's name), {@code --process STEPS} and {@code --dtype TYPE}. */
final class ModelOption {
    @Option(names = "--model", paramLabel = "M",
            description = "a model directory (config.json + weights); a model that ships with jlens (gpt2-organism, neox-organism, "
                    + "solu-organism, llama-organism); or a TransformerLens name (gpt2-small, pythia-70m-v0, solu-1l, ...) or Hugging Face id, taken from the "
                    + "Hugging Face cache or downloaded into it (default: the command's own, gpt2-organism for most)")
    String model;

    @Option(names = "--process", paramLabel = "STEPS",
            description = "TransformerLens weight processing: default (fold_ln, center_writing_weights, center_unembed, "
                    + "fold_value_biases, as from_pretrained), none, or a comma-separated list of steps, "
                    + "e.g. default,refactor_factored_attn_matrices (default: default, or the notebook's flags for an experiment)")
    String process;

    @Option(names = "--dtype", paramLabel = "TYPE",
            description = "how the weight matrices are held: float32, bfloat16 or float16 (default: as the checkpoint stores them; "
                    + "activations and gradients are float32 either way)")
    String dtype;

    /** The directory the last {@link #load} read the model from; and the one it was reading, from the moment it was found. */
    private Path located, reading;

    LoadedModel load() {
        return load(ShippedModels.DEFAULT, "default");
    }

    @Mixin DeviceOption device;

    /** The model given, else {@code defaultModel}; processed as asked, else as {@code defaultProcess}. */
    LoadedModel load(String defaultModel, String defaultProcess) {
        Device where = device.select();
        DataType held = dtype == null ? null : DataType.parse(dtype);
        if (model != null && model.isBlank()) throw new JlensException("--model is empty; name a model directory, a shipped model or a Hugging Face name.");
        String name = model == null ? defaultModel : model;
        Path dir;
        try (DownloadProgress progress = new DownloadProgress()) {
            dir = ModelLocator.locate(name, progress);
        }
        reading = dir;
        String steps = process == null ? defaultProcess : process;
        WeightProcessing.Options options = WeightProcessing.Options.parse(steps);
        if (options.refactorFactoredAttnMatrices() && ModelLoader.config(dir).rotary()) {
            if (process != null) {
                throw new JlensException("--process: refactor_factored_attn_matrices cannot be applied to " + name
                        + ", a rotary model (its QK matrix depends on positions).");
            }
            options = WeightProcessing.Options.parse(steps.replace(",refactor_factored_attn_matrices", ""));
            System.out.println("note: " + name + " is a rotary model, so refactor_factored_attn_matrices is left out of the processing.");
        }
        if (process != null) for (String note : options.skippedFor(ModelLoader.config(dir))) System.out.println("note: " + note);
        LoadedModel loaded = LoadedModel.load(dir, options, held);
        loaded.model().to(where);
        located = dir;
        return loaded;
    }

    /** The float32 bytes of every weight of the model being read or run (from its config), or 0 before one is found. */
    long float32WeightBytes() {
        if (reading == null) return 0;
        long elements = 0;
        for (int[] shape : ParameterShapes.of(ModelLoader.config(reading)).values()) {
            long n = 1;
            for (int extent : shape) n *= extent;
            elements += n;
        }
        return 4 * elements;
    }

    /** The name the model was given by, for titles. */
    String name(String defaultModel) {
        return model == null ? defaultModel : model;
    }

    /** The name of the model {@link #load()} loads. */
    String name() {
        return name(ShippedModels.DEFAULT);
    }

    /** The directory the model was read from; only after {@link #load}. */
    Path directory() {
        if (located == null) throw new IllegalStateException("no model loaded yet");
        return located;
    }
}
