package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.experiments.report.Table;
import dev.jlens.experiments.sweeps.PromptSweep;
import dev.jlens.models.WeightProcessing;
import dev.jlens.models.hub.ShippedModels;
import dev.jlens.models.loading.LoadedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jlens experiment sweep}: the mean over pairs of each pair's patching, as tables; a malformed pairs file is one sentence. */
class SweepCommandTest {
    @TempDir
    Path dir;

    @Test
    void theSweepWritesTheMeanOverPairsAndRefusesAMalformedFile() throws Exception {
        Path prompts = dir.resolve("pairs.tsv");
        Files.write(prompts, List.of(
                "When John and Mary went to the shops, John gave the bag to\tWhen John and Mary went to the shops, Mary gave the bag to\t Mary\t John",
                "When Tom and James went to the park, James gave the ball to\tWhen Tom and James went to the park, Tom gave the ball to\t Tom\t James"));
        Path out = dir.resolve("out");
        CommandLineRun run = CommandLineRun.of("experiment", "sweep", "--prompts", prompts.toString(), "--kind", "heads", "--out", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        LoadedModel loaded = LoadedModel.load(ShippedModels.resolve(ShippedModels.GPT2), WeightProcessing.Options.DEFAULTS);
        List<PromptSweep.Pair> pairs = PromptSweep.read(prompts);
        PromptSweep.Options o = PromptSweep.options("heads", null, loaded.model().cfg());
        double[] one = PromptSweep.perPair(loaded, pairs.get(0), o), two = PromptSweep.perPair(loaded, pairs.get(1), o);
        double[] mean = PromptSweep.run(loaded, pairs, o);
        for (int i = 0; i < mean.length; i++) assertEquals((one[i] + two[i]) / 2, mean[i], 1e-15);
        for (Table t : PromptSweep.tables(loaded, mean, 2, o)) assertEquals(t.csv(), Files.readString(out.resolve(t.name() + ".csv")));

        Files.write(prompts, List.of("only a clean prompt\tand its corrupted one"));
        CommandLineRun bad = CommandLineRun.of("experiment", "sweep", "--prompts", prompts.toString(), "--out", dir.resolve("never").toString());
        assertEquals(1, bad.exitCode());
        assertTrue(bad.err().contains("line 1 has 2 tab-separated fields, not 4 (clean, corrupted, answer, wrong)."), bad.err());
        assertFalse(Files.exists(dir.resolve("never")));
    }
}
