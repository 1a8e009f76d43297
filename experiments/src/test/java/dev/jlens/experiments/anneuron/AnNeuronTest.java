package dev.jlens.experiments.anneuron;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.analysis.Metric;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.experiments.organisms.ArticleText;
import dev.jlens.experiments.organisms.OrganismCorpus;
import dev.jlens.experiments.organisms.Shipped;
import dev.jlens.experiments.report.Prompts;
import dev.jlens.experiments.report.Report;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.hub.ShippedModels;
import dev.jlens.models.loading.LoadedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Notebook 003 on the shipped GPT-2 organism: the neuron sweep against hand-run patches, the book's counts, the a/an phenomenon. */
class AnNeuronTest {
    @TempDir
    Path dir;

    @Test
    void sweepCellsEqualHandRunNeuronPatchesAndTheBookIsCountedRight() throws Exception {
        LoadedModel loaded = Shipped.load(ShippedModels.GPT2, "default,refactor_factored_attn_matrices");
        String bookText = OrganismCorpus.book(40);
        Path book = dir.resolve("book.txt");
        Files.writeString(book, bookText);
        Path out = dir.resolve("report");
        Report report = Shipped.quietReport(out);
        AnNeuron.Result result = AnNeuron.run(loaded, AnNeuron.Options.defaults(book.toString()), report);
        report.finish();
        Shipped.assertIndexShowsEveryFigure(out, 10);

        HookedTransformer model = loaded.model();
        int an = loaded.tokenizer().toSingleToken(" an"), a = loaded.tokenizer().toSingleToken(" a");
        Tokens clean = Prompts.batch(loaded, List.of(ArticleText.NOTEBOOK_PROMPT)), corrupted = Prompts.batch(loaded, List.of(ArticleText.NOTEBOOK_CORRUPTED));
        String hook = "blocks." + result.layer() + ".mlp.hook_post";
        Tensor cleanPost = model.runWithCache(clean, NameFilter.exactly(hook)).cache().get(hook);
        int dMlp = model.cfg().dMlp();
        for (int neuron : new int[] {result.neuron(), 7, dMlp - 1}) {
            Tensor logits;
            try (HookScope scope = model.hookPoints().scope()) {
                scope.forward(hook, (act, point) -> {
                    float[] v = act.data().clone();
                    for (int row = 0; row < v.length / dMlp; row++) v[row * dMlp + neuron] = cleanPost.data()[row * dMlp + neuron];
                    return Tensor.of(v, act.shape());
                });
                logits = model.forward(corrupted);
            }
            double diff = Metric.logitDifferences(logits, corrupted, new int[] {an}, new int[] {a})[0];
            double expected = Metric.normalised(diff, result.cleanLogitDiff(), result.corruptedLogitDiff());
            assertEquals(expected, result.neuronPatching()[neuron], 1e-4, "neuron " + neuron);
            assertEquals(expected, result.neuronAttribution()[neuron], 0.5 * Math.abs(expected) + 1e-3, "attribution estimate, neuron " + neuron);
        }

        int[] ids = loaded.tokenizer().encode(bookText);
        int width = model.cfg().nCtx() - 1, count = 0;
        for (int i = 0; i < ids.length / width * width; i++) if (ids[i] == an) count++;
        assertEquals(count, result.tokenCount());
        assertTrue(count > 20, "the book has " + count + " ' an' tokens");
    }

    @Test
    void theOrganismPredictsAnAfterTheAppleTreeAndAAfterTheLemonTree() {
        LoadedModel loaded = Shipped.load(ShippedModels.GPT2, "default");
        int an = loaded.tokenizer().toSingleToken(" an"), a = loaded.tokenizer().toSingleToken(" a");
        assertEquals(an, Shipped.topToken(loaded, ArticleText.NOTEBOOK_PROMPT));
        assertEquals(a, Shipped.topToken(loaded, ArticleText.NOTEBOOK_CORRUPTED));
        assertEquals(an, Shipped.topToken(loaded, ArticleText.treePrompt("lemon", "orange")));
        assertEquals(a, Shipped.topToken(loaded, ArticleText.treePrompt("apple", "peach")));
    }
}
