package dev.jlens.experiments.ioi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.analysis.Metric;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.experiments.organisms.Shipped;
import dev.jlens.experiments.report.Prompts;
import dev.jlens.experiments.report.Report;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.hub.ShippedModels;
import dev.jlens.models.loading.LoadedModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Notebook 002 on the shipped GPT-2 organism: a patching cell against a hand-run patched forward, and the IOI phenomenon. */
class IoiTest {
    @TempDir
    Path dir;

    @Test
    void aPatchingCellEqualsAHandRunPatchAndTheOrganismSolvesHeldOutIoiWithAFewHeads() throws Exception {
        LoadedModel loaded = Shipped.load(ShippedModels.GPT2, "default");
        Report report = Shipped.quietReport(dir);
        Ioi.Result result = Ioi.run(loaded, Ioi.Options.DEFAULTS, report);
        report.finish();
        Shipped.assertIndexShowsEveryFigure(dir, 10);

        List<String> prompts = new ArrayList<>();
        int[] correct = new int[8], incorrect = new int[8];
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 2; j++) {
                prompts.add(Ioi.PROMPT_FORMAT.get(i).replace("{}", Ioi.NAMES.get(i)[1 - j]));
                correct[2 * i + j] = loaded.tokenizer().toSingleToken(Ioi.NAMES.get(i)[j]);
                incorrect[2 * i + j] = loaded.tokenizer().toSingleToken(Ioi.NAMES.get(i)[1 - j]);
            }
        }
        HookedTransformer model = loaded.model();
        Tokens clean = Prompts.batch(loaded, prompts);
        int[][] swapped = new int[8][];
        for (int i = 0; i < 8; i++) swapped[i] = Prompts.row(clean, i ^ 1);
        Tokens corrupted = Tokens.padded(loaded.tokenizer().bosToken(), swapped);
        Tensor cleanResid = model.runWithCache(clean, NameFilter.exactly("blocks.1.hook_resid_pre")).cache().get("blocks.1.hook_resid_pre");
        int pos = clean.pos(), d = model.cfg().dModel();
        for (int p : new int[] {2, 4, pos - 1}) {
            Tensor patched;
            try (HookScope scope = model.hookPoints().scope()) {
                scope.forward("blocks.1.hook_resid_pre", (act, point) -> {
                    float[] out = act.data().clone();
                    for (int b = 0; b < 8; b++) System.arraycopy(cleanResid.data(), (b * pos + p) * d, out, (b * pos + p) * d, d);
                    return Tensor.of(out, act.shape());
                });
                patched = model.forward(corrupted);
            }
            double expected = Arrays.stream(Metric.logitDifferences(patched, corrupted, correct, incorrect)).average().orElseThrow();
            assertEquals(expected, result.residPatching().get(1, p), 1e-4, "resid_pre layer 1, position " + p);
        }

        assertTrue(result.cleanLogitDiff() > 1, "notebook prompts: " + result.cleanLogitDiff());
        assertTrue(result.heldOutLogitDiff() >= 2.0, "held-out mean logit difference " + result.heldOutLogitDiff());
        // Patching each head's output from the clean run: a few heads carry most of the effect.
        float[] raw = result.headPatching().data();
        double[] heads = new double[raw.length];
        for (int i = 0; i < raw.length; i++) heads[i] = raw[i];
        double total = 0;
        for (int i = 0; i < heads.length; i++) total += Math.abs(Metric.normalised(heads[i], result.cleanLogitDiff(), result.corruptedLogitDiff()));
        double[] sorted = Arrays.stream(heads).map(h -> Math.abs(Metric.normalised(h, result.cleanLogitDiff(), result.corruptedLogitDiff())))
                .sorted().toArray();
        double topThree = sorted[sorted.length - 1] + sorted[sorted.length - 2] + sorted[sorted.length - 3];
        assertTrue(topThree >= 0.6 * total, "the three strongest of " + heads.length + " heads carry " + topThree + " of " + total);
    }
}
