package dev.jlens.cli;

import dev.jlens.analysis.ActNames;
import dev.jlens.analysis.Metric;
import dev.jlens.analysis.Patching;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code jlens bench neurons}: notebook 003's sweep — every neuron of one MLP layer patched from the
 * clean run into the corrupted one — done as jlens does it (runs resumed at that layer, many neurons
 * to a forward) beside the naive way (a whole forward per neuron, on a subset), in one run.
 */
@Command(name = "neurons", mixinStandardHelpOptions = true,
        description = "Times patching every neuron of an MLP layer (resumed, batched) against whole forwards per neuron on a subset.")
final class NeuronSweepBench implements Callable<Integer> {
    @Mixin ModelOption modelOption;
    @Option(names = "--layer", description = "the MLP layer (default: the last)") Integer layer;
    @Option(names = "--naive", defaultValue = "8", description = "neurons timed the naive way (default ${DEFAULT-VALUE})") int naive;
    @Option(names = "--batch", defaultValue = "256", description = "prompts per batched forward (default ${DEFAULT-VALUE})") int batch;
    @Option(names = "--clean", defaultValue = "I climbed up the pear tree and picked a pear. I climbed up the apple tree and picked")
    String cleanPrompt;
    @Option(names = "--corrupted", defaultValue = "I climbed up the pear tree and picked a pear. I climbed up the lemon tree and picked")
    String corruptedPrompt;
    @Option(names = "--answer", defaultValue = " an") String answer;
    @Option(names = "--wrong", defaultValue = " a") String wrong;

    @Override
    public Integer call() {
        LoadedModel loaded = modelOption.load();
        HookedTransformer model = loaded.model();
        int l = layer == null ? model.cfg().nLayers() - 1 : layer;
        if (l < 0 || l >= model.cfg().nLayers()) throw new JlensException("--layer " + l + " is outside the model's 0.." + (model.cfg().nLayers() - 1) + ".");
        Tokens clean = loaded.toTokens(cleanPrompt, true), corrupted = loaded.toTokens(corruptedPrompt, true);
        if (clean.pos() != corrupted.pos()) {
            throw new JlensException("the clean and corrupted prompts must have as many tokens: " + clean.pos() + " and " + corrupted.pos() + ".");
        }
        Metric metric = Metric.logitDifference(new int[] {loaded.tokenizer().toSingleToken(answer)}, new int[] {loaded.tokenizer().toSingleToken(wrong)});
        String post = ActNames.of("post", l);
        NameFilter needed = NameFilter.exactly(post, ActNames.of("resid_pre", l));
        var cleanCache = model.runWithCache(clean, needed).cache();
        var corruptedCache = model.runWithCache(corrupted, needed).cache();
        Patching patching = new Patching(model, corrupted, cleanCache, corruptedCache, metric);
        int dMlp = model.cfg().dMlp(), subset = Math.min(naive, dMlp);

        long start = System.nanoTime();
        double[] swept = patching.neurons(l, IntStream.range(0, dMlp).toArray(), batch);
        double fastPerNeuron = (System.nanoTime() - start) / 1e9 / dMlp;

        Tensor cleanPost = cleanCache.get(post);
        double worst = 0;
        start = System.nanoTime();
        for (int neuron = 0; neuron < subset; neuron++) {
            int n = neuron;
            try (HookScope scope = model.hookPoints().scope()) {
                scope.forward(post, (act, point) -> {
                    float[] out = act.data().clone();
                    for (int row = 0; row < act.size() / dMlp; row++) out[row * dMlp + n] = cleanPost.data()[row * dMlp + n];
                    return Tensor.of(out, act.shape());
                });
                worst = Math.max(worst, Math.abs(metric.value(model.forward(corrupted), corrupted) - swept[n]));
            }
        }
        double naivePerNeuron = (System.nanoTime() - start) / 1e9 / subset;
        System.out.printf("%s, layer %d, %d neurons, %d-token prompts: resumed and batched %.2f ms per neuron (%.1f s in all); "
                        + "whole forward per neuron %.1f ms (over %d neurons); largest difference %.1e%n",
                modelOption.name(), l, dMlp, clean.pos(), fastPerNeuron * 1e3, fastPerNeuron * dMlp, naivePerNeuron * 1e3, subset, worst);
        System.out.printf("RESULT neuron_sweep_speedup %.1f x%n", naivePerNeuron / fastPerNeuron);
        return 0;
    }
}
