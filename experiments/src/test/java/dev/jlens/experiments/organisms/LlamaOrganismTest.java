package dev.jlens.experiments.organisms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.experiments.anneuron.AnNeuron;
import dev.jlens.experiments.gradientattribution.GradientAttribution;
import dev.jlens.experiments.ioi.Ioi;
import dev.jlens.experiments.report.Report;
import dev.jlens.models.Config;
import dev.jlens.models.ModelFamily;
import dev.jlens.models.hub.ShippedModels;
import dev.jlens.models.loading.LoadedModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped Llama organism (grouped-query attention, gated SiLU MLP, RMS norms, rotary) under
 * the analysis toolkit: three notebooks run on it unchanged and find their phenomena.
 */
class LlamaOrganismTest {
    @TempDir
    Path dir;

    @Test
    void itIsALlamaOfAtMostTenMegabytes() throws IOException {
        Path organism = ShippedModels.resolve(ShippedModels.LLAMA);
        Config cfg = Shipped.load(ShippedModels.LLAMA, "none").model().cfg();
        assertEquals(ModelFamily.LLAMA, cfg.family());
        assertTrue(cfg.groupedQueryAttention() && cfg.gatedMlp() && cfg.rotary() && cfg.normalization() == Config.Normalization.RMS, cfg.toString());
        long bytes;
        try (Stream<Path> files = Files.list(organism)) {
            bytes = files.mapToLong(p -> p.toFile().length()).sum();
        }
        assertTrue(bytes <= 10_000_000, organism + " holds " + bytes + " bytes");
    }

    @Test
    void ioiHeldOutLogitDifferenceIsAtLeastTwo() throws Exception {
        LoadedModel loaded = Shipped.load(ShippedModels.LLAMA, "default");
        Report report = Shipped.quietReport(dir.resolve("ioi"));
        Ioi.Result result = Ioi.run(loaded, Ioi.Options.DEFAULTS, report);
        report.finish();
        assertTrue(result.heldOutLogitDiff() >= 2.0, "held-out mean logit difference " + result.heldOutLogitDiff());
        Shipped.assertIndexShowsEveryFigure(dir.resolve("ioi"), 10);
    }

    @Test
    void anComesFirstAfterTheAppleTreeAndTheNotebookRuns() throws Exception {
        LoadedModel loaded = Shipped.load(ShippedModels.LLAMA, "default");
        int an = loaded.tokenizer().toSingleToken(" an"), a = loaded.tokenizer().toSingleToken(" a");
        assertEquals(an, Shipped.topToken(loaded, ArticleText.NOTEBOOK_PROMPT));
        assertEquals(a, Shipped.topToken(loaded, ArticleText.NOTEBOOK_CORRUPTED));
        Path book = dir.resolve("book.txt");
        Files.writeString(book, OrganismCorpus.book(20));
        Report report = Shipped.quietReport(dir.resolve("an"));
        AnNeuron.run(loaded, AnNeuron.Options.defaults(book.toString()), report);
        report.finish();
        Shipped.assertIndexShowsEveryFigure(dir.resolve("an"), 10);
    }

    @Test
    void gradientAttributionRunsOnIt() throws Exception {
        LoadedModel loaded = Shipped.load(ShippedModels.LLAMA, "none");
        Report report = Shipped.quietReport(dir.resolve("ga"));
        GradientAttribution.Result result = GradientAttribution.run(loaded, GradientAttribution.Options.DEFAULTS, report);
        report.finish();
        assertFalse(result.diffRows().isEmpty());
        for (GradientAttribution.Row row : result.diffRows()) assertTrue(Double.isFinite(row.norm()) && row.norm() > 0, row.toString());
        Shipped.assertIndexShowsEveryFigure(dir.resolve("ga"), 3);
    }
}
