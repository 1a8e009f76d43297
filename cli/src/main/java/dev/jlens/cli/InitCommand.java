package dev.jlens.cli;

import dev.jlens.engine.DataType;
import dev.jlens.engine.io.Outputs;
import dev.jlens.models.Config;
import dev.jlens.models.Presets;
import dev.jlens.models.RandomWeights;
import dev.jlens.models.loading.ModelExport;
import dev.jlens.models.tokenizer.BpeTrainer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code jlens init}: a random-weight model of a real shape, in Hugging Face layout. */
@Command(name = "init", mixinStandardHelpOptions = true,
        description = "Writes a random-weight model of a real shape (config.json + model.safetensors: Hugging Face layout for gpt2 "
                + "and gpt-neox, TransformerLens's for solu, with a tokenizer.json of its vocabulary's size).")
final class InitCommand implements Callable<Integer> {
    @Option(names = "--arch", required = true, description = "gpt2, gpt-neox, solu, llama, qwen2, qwen3 or mistral") String arch;
    @Option(names = "--preset", required = true, description = "gpt2: tiny, small, medium, large, xl; gpt-neox: tiny, pythia-70m, pythia-160m; "
            + "solu: tiny, solu-1l, solu-2l; llama: tiny, llama-3.2-1b, llama-3.2-3b, llama-3.1-8b; qwen2: tiny, qwen2.5-0.5b; "
            + "qwen3: tiny, qwen3-0.6b; mistral: tiny, mistral-7b")
    String preset;
    @Option(names = "--seed", defaultValue = "0", description = "random seed (default ${DEFAULT-VALUE})") long seed;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "directory to write (its other files are left alone)") Path out;
    @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "float32",
            description = "the type the weight matrices are stored in: float32, bfloat16 or float16 (default ${DEFAULT-VALUE})") String dtype;
    @Option(names = "--overwrite", description = "replace config.json, model.safetensors and tokenizer.json if --out has them") boolean overwrite;

    @Override
    public Integer call() throws Exception {
        Config cfg = Presets.get(arch, preset);
        DataType type = DataType.parse(dtype);
        Outputs.checkDirectory(out, List.of("config.json", "model.safetensors", "tokenizer.json"), overwrite, "--out");
        BpeTrainer.Vocabulary tokenizer = Presets.tokenizer(cfg);
        Outputs.writeDirectory(out, overwrite, staging -> {
            ModelExport.write(staging, cfg, RandomWeights.of(cfg, seed, 0.02, type));
            if (tokenizer != null) tokenizer.write(staging);
        });
        System.out.printf("wrote a random %s %s model (%d layers, d_model %d, %d heads, %,d matmul parameters, %s) to %s%n",
                arch, preset, cfg.nLayers(), cfg.dModel(), cfg.nHeads(), cfg.matmulParameters(), type, out);
        if (tokenizer == null && cfg.family().llamaLayout()) {
            System.out.printf("no tokenizer: jlens ships none of %,d tokens; put the model's tokenizer.json beside it, or give --tokens%n", cfg.dVocab());
        }
        return 0;
    }
}
