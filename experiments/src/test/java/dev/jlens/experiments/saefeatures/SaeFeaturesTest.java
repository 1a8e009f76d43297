package dev.jlens.experiments.saefeatures;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.analysis.sae.Sae;
import dev.jlens.analysis.sae.SaeFiles;
import dev.jlens.experiments.organisms.OrganismCorpus;
import dev.jlens.experiments.organisms.Recipe;
import dev.jlens.experiments.organisms.Shipped;
import dev.jlens.experiments.report.Report;
import dev.jlens.models.hub.ShippedModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SAE experiment on the shipped organisms and their shipped SAEs: both SAEs stand in for their
 * hooks; a French feature fires on French far more than on English, though alone it separates the
 * languages less well than the French neuron; the IOI features attribution patching picks change
 * the logit difference, when ablated, the way attribution says; and each feature named has its view.
 */
class SaeFeaturesTest {
    @TempDir
    Path dir;

    static Sae shipped(String model, String hook) {
        return SaeFiles.load(ShippedModels.resolve(model).resolve("saes").resolve(hook));
    }

    @Test
    void theShippedSaesFindFrenchAndIoiFeatures() throws Exception {
        SaeFeatures.Subject neox = new SaeFeatures.Subject(Shipped.load(ShippedModels.NEOX, "default"), shipped(ShippedModels.NEOX, "blocks.1.hook_resid_post"),
                ShippedModels.NEOX, OrganismCorpus.documents(Recipe.named(ShippedModels.NEOX).corpus().mixture(), 7, 400));
        SaeFeatures.Subject gpt2 = new SaeFeatures.Subject(Shipped.load(ShippedModels.GPT2, "default"), shipped(ShippedModels.GPT2, "blocks.1.hook_resid_pre"),
                ShippedModels.GPT2, OrganismCorpus.documents(Recipe.named(ShippedModels.GPT2).corpus().mixture(), 7, 400));
        Path out = dir.resolve("report");
        Report report = Shipped.quietReport(out);
        SaeFeatures.Options d = SaeFeatures.Options.DEFAULTS;
        SaeFeatures.Result r = SaeFeatures.run(neox, gpt2, new SaeFeatures.Options(d.frenchNeuron(), 100, 32, d.top(), 32, 3, 0), report);
        report.finish();

        assertTrue(r.neoxQuality().ceLossRecovered() > 0.99, "neox SAE: " + r.neoxQuality());
        assertTrue(r.gpt2Quality().ceLossRecovered() > 0.99, "gpt2 SAE: " + r.gpt2Quality());
        assertTrue(r.neoxQuality().explainedVariance() > 0.9 && r.gpt2Quality().explainedVariance() > 0.9);

        // One feature is a precise French detector that covers part of French; together the top features approach the neuron.
        assertTrue(r.frenchFeatureTest() > 0.55, "best single French feature " + r.frenchFeatureTest());
        assertTrue(r.frenchTogetherTest() > r.frenchFeatureTest() + 0.05, "features together " + r.frenchTogetherTest());
        assertTrue(r.neuronTest() > 0.8, "neuron L1N484 " + r.neuronTest());

        assertTrue(r.cleanLogitDiff() > 2, "IOI logit difference on held-out prompts " + r.cleanLogitDiff());
        for (int i = 0; i < r.ioiFeatures().length; i++) {
            double predicted = r.ioiAttribution()[i], actual = r.ioiAblation()[i];
            assertTrue(Math.signum(predicted) == Math.signum(actual) && Math.abs(actual) > 0.3 * Math.abs(predicted) && Math.abs(actual) < 3 * Math.abs(predicted),
                    "feature " + r.ioiFeatures()[i] + ": attribution " + predicted + ", ablation " + actual);
        }
        String index = Files.readString(out.resolve("index.html"));
        assertEquals(2 * d.top(), index.split("data-kind=\"feature\"", -1).length - 1, "a feature view for each feature named");
        for (int f : r.ioiFeatures()) assertTrue(index.contains("\"index\":" + f + ","), "feature " + f + "'s view");
    }
}
