package dev.jlens.cli;

import dev.jlens.engine.Device;
import dev.jlens.engine.io.Outputs;
import dev.jlens.experiments.organisms.OrganismTrainer;
import dev.jlens.experiments.organisms.Recipe;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code jlens train --recipe NAME}: remakes a model organism with the engine's own backward pass. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Trains a model organism from its recipe (corpus, tokenizer, AdamW schedule; all seeded) and writes it "
                + "in Hugging Face layout with its tokenizer.json and a model card.")
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--recipe", required = true, description = "one of: gpt2-organism, neox-organism, solu-organism, llama-organism") String recipe;
    @Option(names = "--steps", description = "override the recipe's number of steps") Integer steps;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "directory to write (its other files are left alone)") Path out;
    @Option(names = "--overwrite", description = "replace the model files of an earlier run in --out") boolean overwrite;

    @Mixin DeviceOption device;

    @Override
    public Integer call() {
        Device where = device.select();
        Recipe r = Recipe.named(recipe);
        Outputs.checkDirectory(out, OrganismTrainer.FILES, overwrite, "--out");
        int total = steps == null ? r.training().steps() : steps;
        OrganismTrainer.Summary s;
        try (ProgressBar bar = Bars.bar("train " + r.name(), total)) {
            s = OrganismTrainer.make(r, steps, out, overwrite, where, p -> {
                bar.step();
                bar.setExtraMessage(String.format(Locale.ROOT, "loss %.3f%s", p.loss(),
                        p.evalLoss() == null ? "" : String.format(Locale.ROOT, ", held-out %.3f", p.evalLoss())));
            });
        }
        System.out.printf(Locale.ROOT, "trained %s for %d steps in %.0f s: loss %.3f -> %.3f (held-out %.3f); wrote %s in %s%n",
                r.name(), s.steps(), s.seconds(), s.firstLoss(), s.finalLoss(), s.finalEvalLoss(), out, s.layout().describe());
        return 0;
    }
}
