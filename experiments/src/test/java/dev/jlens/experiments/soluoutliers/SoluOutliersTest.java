package dev.jlens.experiments.soluoutliers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.experiments.organisms.Shipped;
import dev.jlens.experiments.report.Report;
import dev.jlens.models.CrossEntropy;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.hub.ShippedModels;
import dev.jlens.models.loading.LoadedModel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Notebook 004 on the shipped SoLU organism, each score checked by a hand-run ablation; and the command line. */
class SoluOutliersTest {
    @TempDir
    Path dir;

    @Test
    void theTopScoresEqualHandRunAblationsOverOutlierScores() throws Exception {
        LoadedModel loaded = Shipped.load(ShippedModels.SOLU, "default,refactor_factored_attn_matrices");
        Report report = Shipped.quietReport(dir);
        SoluOutliers.Result result = SoluOutliers.run(loaded, 0, 10, 0, report);
        report.finish();
        Shipped.assertIndexShowsEveryFigure(dir, 2);
        assertEquals(35, result.prompts().size(), "two of the notebook's 36 strings are joined, as Python joins them");
        assertEquals("Laughter echoes.The sky is blue.", SoluOutliers.PROMPTS.get(9));

        HookedTransformer model = loaded.model();
        for (SoluOutliers.Position top : result.top().subList(0, 3)) {
            SoluOutliers.PromptResult pr = result.prompts().get(top.prompt());
            Tokens tokens = Tokens.of(pr.tokens());
            Tensor mid = model.runWithCache(tokens, NameFilter.exactly("blocks.0.mlp.hook_mid")).cache().get("blocks.0.mlp.hook_mid");
            int width = mid.dim(2);
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < width; i++) {
                max = Math.max(max, mid.get(0, top.pos(), i));
                sum += mid.get(0, top.pos(), i);
            }
            double outlier = max - sum / width;
            double original = CrossEntropy.mean(model.forward(tokens), tokens), ablated;
            try (HookScope scope = model.hookPoints().scope()) {
                scope.forward("blocks.0.mlp.hook_mid", (act, point) -> {
                    float[] v = act.data().clone();
                    java.util.Arrays.fill(v, top.pos() * width, (top.pos() + 1) * width, 0f);
                    return Tensor.of(v, act.shape());
                });
                ablated = CrossEntropy.mean(model.forward(tokens), tokens);
            }
            assertEquals((ablated - original) / outlier, top.score(), 1e-6 * Math.abs(top.score()) + 1e-9);
        }
        for (int i = 1; i < result.top().size(); i++) assertTrue(result.top().get(i - 1).score() >= result.top().get(i).score());
    }
}
