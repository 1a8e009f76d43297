package dev.jlens.experiments.cli;

import dev.jlens.engine.JlensException;
import dev.jlens.models.LoadedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --model M}: a model directory (config.json + model.safetensors). */
final class ModelOption {
    @Option(names = "--model", paramLabel = "M", required = true,
            description = "a model directory holding config.json and model.safetensors")
    String model;

    LoadedModel load() {
        Path dir = Path.of(model);
        if (!Files.exists(dir)) throw new JlensException("--model " + model + ": no such model directory.");
        return LoadedModel.load(dir);
    }
}
