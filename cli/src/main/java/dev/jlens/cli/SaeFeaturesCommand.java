package dev.jlens.cli;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.analysis.sae.CorpusContexts;
import dev.jlens.analysis.sae.FeatureStatistics;
import dev.jlens.analysis.sae.Sae;
import dev.jlens.analysis.sae.SaeSplice;
import dev.jlens.engine.io.Outputs;
import dev.jlens.experiments.saefeatures.FeatureDashboards;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.loading.LoadedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code jlens sae features}: a dashboard per feature over a corpus, and the dead features. */
@Command(name = "features", mixinStandardHelpOptions = true,
        description = "Feature dashboards in HTML over a corpus (one document per line): top activating contexts, activation histogram, "
                + "firing density, the tokens each feature promotes and suppresses through W_U; and the list of dead features.")
final class SaeFeaturesCommand implements Callable<Integer> {
    static final String SUMMARY = "features.json";

    @Mixin ModelOption modelOption;
    @Mixin SaeOption saeOption;
    @Option(names = "--corpus", required = true, paramLabel = "FILE", description = "text, one document per line") Path corpus;
    @Option(names = "--contexts", defaultValue = "256", paramLabel = "N", description = "contexts read from the corpus (default ${DEFAULT-VALUE})") int contexts;
    @Option(names = "--context", paramLabel = "C", description = "tokens per context, BOS first (default: the model's n_ctx, at most 128)") Integer context;
    @Option(names = "--examples", defaultValue = "10", paramLabel = "E", description = "top activating contexts per feature (default ${DEFAULT-VALUE})") int examples;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "directory to write the dashboards into") Path out;
    @Option(names = "--overwrite", description = "replace the dashboards of an earlier run in --out") boolean overwrite;

    @Override
    public Integer call() {
        NumberFlag.require(contexts >= 1 && contexts <= 1 << 20, "--contexts", contexts, "1 to 1048576");
        NumberFlag.require(examples >= 1 && examples <= 100, "--examples", examples, "1 to 100");
        Outputs.checkDirectory(out, List.of("index.html", SUMMARY), overwrite, "--out");
        List<String> documents = SaeTrainCommand.documents(corpus);
        Sae sae = saeOption.load();
        LoadedModel loaded = modelOption.load();
        HookedTransformer model = loaded.model();
        int length = context == null ? Math.min(128, model.cfg().nCtx()) : context;
        NumberFlag.require(length >= 2 && length <= model.cfg().nCtx(), "--context", length, "2 to the model's n_ctx (" + model.cfg().nCtx() + ")");
        // Splicing checks the hook and d_in before the work; the statistics read the hook's own activations.
        SaeSplice.attach(model, sae, true).close();
        CorpusContexts corpusContexts = new CorpusContexts(documents, loaded.tokenizer(), length);
        int n = (int) Math.min(contexts, Math.max(1, corpusContexts.tokens() / (length - 1)));
        int[][] batch = new int[n][];
        for (int i = 0; i < n; i++) batch[i] = corpusContexts.get();
        FeatureStatistics stats = FeatureStatistics.of(model, sae, batch, examples, 10, ConsoleProgress.INSTANCE);
        Outputs.writeDirectory(out, overwrite, staging -> {
            FeatureDashboards.write(staging, stats, loaded.tokenizer(), sae.cfg(), modelOption.name());
            Files.writeString(staging.resolve(SUMMARY), summary(stats));
        });
        System.out.printf("%d of %d features fire over %d contexts of %d tokens; %d are dead. Wrote %s and a dashboard per live feature to %s%n",
                stats.features() - stats.dead().size(), stats.features(), n, length, stats.dead().size(), "index.html", out);
        return 0;
    }

    private static String summary(FeatureStatistics stats) throws java.io.IOException {
        JsonMapper mapper = JsonMapper.builder().build();
        ObjectNode json = mapper.createObjectNode();
        json.put("positions", stats.positions());
        ArrayNode features = json.putArray("features");
        for (int f = 0; f < stats.features(); f++) {
            FeatureStatistics.Feature x = stats.feature(f);
            features.addObject().put("index", f).put("fires", x.fires()).put("density", x.density()).put("max", x.max());
        }
        ArrayNode dead = json.putArray("dead");
        stats.dead().forEach(dead::add);
        return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(json);
    }
}
