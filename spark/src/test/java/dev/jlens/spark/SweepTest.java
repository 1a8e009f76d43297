package dev.jlens.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

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

/**
 * {@code jlens spark sweep} on local[2], sharded over three partitions: the same tables, to the last
 * digit, as the sweep on one machine, for neurons, heads and a layer × position grid.
 */
class SweepTest {
    @TempDir
    Path dir;

    static final List<String> IOI = List.of(
            "When John and Mary went to the shops, John gave the bag to\tWhen John and Mary went to the shops, Mary gave the bag to\t Mary\t John",
            "When John and Mary went to the shops, Mary gave the bag to\tWhen John and Mary went to the shops, John gave the bag to\t John\t Mary",
            "When Tom and James went to the park, James gave the ball to\tWhen Tom and James went to the park, Tom gave the ball to\t Tom\t James",
            "When Tom and James went to the park, Tom gave the ball to\tWhen Tom and James went to the park, James gave the ball to\t James\t Tom",
            "When Dan and Sid went to the shops, Sid gave an apple to\tWhen Dan and Sid went to the shops, Dan gave an apple to\t Dan\t Sid");
    static final List<String> AN = List.of(
            "I climbed up the pear tree and picked a pear. I climbed up the apple tree and picked\tI climbed up the pear tree and picked a pear. I climbed up the lemon tree and picked\t an\t a",
            "I climbed up the pear tree and picked a pear. I climbed up the orange tree and picked\tI climbed up the pear tree and picked a pear. I climbed up the lemon tree and picked\t an\t a",
            "She ate a plum. Then she ate\tShe ate a plum. Then she ate\t an\t a");

    @Test
    void shardedSweepsGiveTheSingleMachineTables() throws Exception {
        LoadedModel loaded = LoadedModel.load(ShippedModels.resolve(ShippedModels.GPT2), WeightProcessing.Options.DEFAULTS);
        for (String kind : List.of("heads", "neurons", "resid_pre")) {
            Path prompts = dir.resolve(kind + ".tsv");
            Files.write(prompts, switch (kind) {
                case "heads" -> IOI;
                case "neurons" -> AN;
                default -> IOI.subList(0, 2); // a layer × position grid: pairs of one length
            });
            Path out = dir.resolve(kind);
            assertEquals(0, SparkCli.run("sweep", "--model", ShippedModels.GPT2, "--prompts", prompts.toString(), "--kind", kind, "--out", out.toString(),
                    "--master", "local[2]", "--partitions", "3"));
            List<PromptSweep.Pair> pairs = PromptSweep.read(prompts);
            PromptSweep.Options o = PromptSweep.options(kind, null, loaded.model().cfg());
            for (Table t : PromptSweep.tables(loaded, PromptSweep.run(loaded, pairs, o), pairs.size(), o)) {
                assertEquals(t.csv(), Files.readString(out.resolve(t.name() + ".csv")), t.name());
            }
        }
        assertEquals(1, SparkCli.run("sweep", "--prompts", dir.resolve("heads.tsv").toString(), "--kind", "layers", "--out", dir.resolve("x").toString()));
    }
}
