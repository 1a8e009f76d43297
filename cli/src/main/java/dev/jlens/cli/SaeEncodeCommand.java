package dev.jlens.cli;

import dev.jlens.analysis.sae.Sae;
import dev.jlens.analysis.sae.SaeSplice;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.ActivationCache;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.engine.io.Outputs;
import dev.jlens.engine.safetensors.SafetensorsWriter;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code jlens sae encode}: the SAE's features, reconstruction and error at its hook over one prompt. */
@Command(name = "encode", mixinStandardHelpOptions = true,
        description = "Runs the model with the SAE spliced at its hook (with its error term, so the model's output is unchanged); "
                + "writes feature_acts [1,pos,d_sae], sae_out [1,pos,d_in] and sae_error [1,pos,d_in].")
final class SaeEncodeCommand implements Callable<Integer> {
    @Mixin ModelOption modelOption;
    @Mixin SaeOption saeOption;
    @Mixin InputOption input;
    @Option(names = "--out", required = true, paramLabel = "FILE", description = "safetensors file to write") Path out;
    @Option(names = "--overwrite", description = "replace --out if it exists") boolean overwrite;

    @Override
    public Integer call() {
        Outputs.checkFile(out, overwrite, "--out");
        Sae sae = saeOption.load();
        LoadedModel loaded = modelOption.load();
        HookedTransformer model = loaded.model();
        Tokens tokens = input.tokens(loaded);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (SaeSplice spliced = SaeSplice.attach(model, sae, true); HookScope scope = model.hookPoints().scope()) {
            String acts = spliced.hookName("hook_sae_acts_post"), recons = spliced.hookName("hook_sae_recons"), error = spliced.hookName("hook_sae_error");
            ActivationCache cache = ActivationCache.recordActivations(scope, NameFilter.exactly(acts, recons, error));
            model.forward(tokens);
            tensors.put("feature_acts", cache.get(acts));
            tensors.put("sae_out", cache.get(recons));
            tensors.put("sae_error", cache.get(error));
        }
        SafetensorsWriter.write(out, tensors, Map.of("model", modelOption.name(), "sae", saeOption.sae, "hook", sae.cfg().hookName()), overwrite);
        float[] f = tensors.get("feature_acts").data();
        int positions = tokens.pos(), active = 0;
        for (float v : f) if (v > 0) active++;
        System.out.printf("%s at %s: %d features, %.1f active per position on average over %d positions; wrote feature_acts, sae_out and sae_error to %s%n",
                sae.cfg().architecture().saeLensName(), sae.cfg().hookName(), sae.cfg().dSae(), (double) active / positions, positions, out);
        return 0;
    }
}
