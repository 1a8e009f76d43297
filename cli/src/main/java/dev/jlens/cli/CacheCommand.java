package dev.jlens.cli;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.engine.io.Outputs;
import dev.jlens.engine.safetensors.SafetensorsWriter;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.loading.LoadedModel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code jlens cache}: one forward pass, logits and hook activations to a safetensors file. */
@Command(name = "cache", mixinStandardHelpOptions = true,
        description = "One forward pass; writes logits and every hook activation (float32, batch dimension 1).")
final class CacheCommand implements Callable<Integer> {
    @Mixin ModelOption modelOption;
    @Mixin InputOption input;
    @Option(names = "--names", paramLabel = "REGEX", description = "only hook points whose whole name matches") String names;
    @Option(names = "--out", required = true, paramLabel = "FILE", description = "safetensors file to write") Path out;
    @Option(names = "--overwrite", description = "replace --out if it exists") boolean overwrite;

    @Override
    public Integer call() {
        Outputs.checkFile(out, overwrite, "--out");
        NameFilter filter;
        try {
            filter = names == null ? NameFilter.all() : NameFilter.regex(names);
        } catch (PatternSyntaxException e) {
            throw new JlensException("--names '" + names + "' is not a valid regular expression (" + e.getDescription() + ").");
        }
        LoadedModel loaded = modelOption.load();
        HookedTransformer model = loaded.model();
        if (model.hookPoints().names().stream().noneMatch(filter::test)) {
            throw new JlensException("--names '" + names + "' matches none of " + modelOption.name() + "'s hook points (they are named like "
                    + "blocks.0.hook_resid_pre and blocks.0.attn.hook_pattern).");
        }
        // Per-head outputs cost memory and sum the heads in another order: only when asked for.
        model.setUseAttnResult(model.hookPoints().names().stream().anyMatch(n -> n.endsWith("hook_result") && filter.test(n)));
        HookedTransformer.CachedRun run = model.runWithCache(input.tokens(loaded), filter);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("logits", run.logits());
        tensors.putAll(run.cache().asMap());
        SafetensorsWriter.write(out, tensors, Map.of("model", modelOption.name()), overwrite);
        System.out.printf("wrote logits and %d activations to %s%n", run.cache().size(), out);
        return 0;
    }
}
