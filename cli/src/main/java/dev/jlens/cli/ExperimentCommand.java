package dev.jlens.cli;

import dev.jlens.analysis.sae.Sae;
import dev.jlens.engine.JlensException;
import dev.jlens.experiments.anneuron.AnNeuron;
import dev.jlens.experiments.frenchneuron.FrenchNeuron;
import dev.jlens.experiments.frenchneuron.TextSamples;
import dev.jlens.experiments.gradientattribution.GradientAttribution;
import dev.jlens.experiments.gradientattribution.Neuron;
import dev.jlens.experiments.ioi.Ioi;
import dev.jlens.experiments.organisms.OrganismCorpus;
import dev.jlens.experiments.organisms.Recipe;
import dev.jlens.experiments.report.Report;
import dev.jlens.experiments.saefeatures.SaeFeatures;
import dev.jlens.experiments.soluoutliers.SoluOutliers;
import dev.jlens.experiments.sweeps.PromptSweep;
import dev.jlens.models.WeightProcessing;
import dev.jlens.models.hub.ShippedModels;
import dev.jlens.models.loading.LoadedModel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code jlens experiment NAME}: the five notebooks. Each runs every step of its notebook with the
 * notebook's prompts and settings as defaults, prints its tables, and writes CSV, JSON, PNG, SVG and
 * an index.html to {@code --out}. The default model is the shipped organism of the notebook's architecture.
 */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = "Runs one of the notebook experiments: gradient-attribution, french-neuron, ioi, an-neuron, solu-outliers; or sae-features.",
        subcommands = {ExperimentCommand.GradientAttributionCommand.class, ExperimentCommand.FrenchNeuronCommand.class,
            ExperimentCommand.IoiCommand.class, ExperimentCommand.AnNeuronCommand.class, ExperimentCommand.SoluOutliersCommand.class,
            ExperimentCommand.SaeFeaturesCommand.class, ExperimentCommand.SweepCommand.class})
final class ExperimentCommand implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name an experiment: gradient-attribution, french-neuron, ioi, an-neuron, solu-outliers, sae-features or sweep");
    }

    /** Records in report.json how many forward and backward passes the experiment ran on its model. */
    static void countPasses(Report report, LoadedModel loaded) {
        report.count("forward_passes", loaded.model().passes().forward());
        report.count("backward_passes", loaded.model().passes().backward());
    }

    /** {@code --out DIR}. */
    static final class OutOption {
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "directory for tables (CSV, JSON), figures (PNG, SVG) and index.html")
        Path out;

        Report report(String title) {
            return new Report(title, out, System.out, ConsoleProgress.INSTANCE);
        }
    }

    @Command(name = "ioi", mixinStandardHelpOptions = true,
            description = "Notebook 002 (gpt2-small): IOI logit difference, DLA, logit lens, per-layer and per-head attribution, "
                    + "activation and attribution patching. Default model: " + ShippedModels.GPT2 + ".")
    static final class IoiCommand implements Callable<Integer> {
        @Mixin ModelOption model;
        @Mixin OutOption out;
        @Option(names = "--held-out", defaultValue = "100", description = "held-out IOI prompts to score (default ${DEFAULT-VALUE})") int heldOut;

        @Override
        public Integer call() {
            // Each held-out prompt is generated and run: past a hundred thousand it is a mistake, not a study.
            NumberFlag.require(heldOut > 0 && heldOut <= 100_000, "--held-out", heldOut, "from 1 to 100000");
            LoadedModel loaded = model.load(ShippedModels.GPT2, "default");
            try (Report report = out.report("IOI (notebook 002) on " + model.name(ShippedModels.GPT2))) {
                Ioi.run(loaded, new Ioi.Options(heldOut, Ioi.Options.DEFAULTS.maxBatch()), report);
                countPasses(report, loaded);
                report.finish();
            }
            return 0;
        }
    }

    @Command(name = "an-neuron", mixinStandardHelpOptions = true,
            description = "Notebook 003 (gpt2-large, fold_ln, center_writing_weights, center_unembed, refactor_factored_attn_matrices): "
                    + "the ' an' neuron: logit lens, patching by layer and position, a sweep over every neuron of one layer, "
                    + "the neuron over a book, its vocabulary effect, and token/neuron similarities. Default model: " + ShippedModels.GPT2 + ".")
    static final class AnNeuronCommand implements Callable<Integer> {
        @Mixin ModelOption model;
        @Mixin OutOption out;
        // Unset, they are the notebook's, which a smaller model may not have; set, they must exist in the model.
        @Option(names = "--layer", description = "the MLP layer to sweep (default 31, the notebook's; the last layer of a smaller model)") Integer layer;
        @Option(names = "--neuron", description = "the neuron to study (default 892, the notebook's; the sweep's best where the model has none)") Integer neuron;
        @Option(names = "--token", defaultValue = " an", description = "the token of interest (default '${DEFAULT-VALUE}')") String token;
        @Option(names = "--book", paramLabel = "FILE", description = "any text file to read as the book (default: held-out prose that ships with jlens)") String book;

        @Override
        public Integer call() {
            if (layer != null) NumberFlag.require(layer >= 0, "--layer", layer, "0 or more");
            if (neuron != null) NumberFlag.require(neuron >= 0, "--neuron", neuron, "0 or more");
            if (book != null && !java.nio.file.Files.isRegularFile(Path.of(book))) {
                throw new JlensException("--book " + book + ": no such file.");
            }
            LoadedModel loaded = model.load(ShippedModels.GPT2, "default,refactor_factored_attn_matrices");
            NumberFlag.requireInModel(loaded, layer, neuron);
            try (Report report = out.report("We Found An Neuron (notebook 003) on " + model.name(ShippedModels.GPT2))) {
                AnNeuron.run(loaded, new AnNeuron.Options(layer == null ? 31 : layer, neuron == null ? 892 : neuron, token, book, 64), report);
                countPasses(report, loaded);
                report.finish();
            }
            return 0;
        }
    }

    @Command(name = "gradient-attribution", mixinStandardHelpOptions = true,
            description = "Notebook 000 (gpt2-small): differences of MLP weight gradients between a wrong and the right city, "
                    + "per layer, neuron and residual direction; checks on unrelated and capital sentences. Default model: " + ShippedModels.GPT2 + ".")
    static final class GradientAttributionCommand implements Callable<Integer> {
        @Mixin ModelOption model;
        @Mixin OutOption out;
        @Option(names = "--capital-neurons", split = ",", paramLabel = "LxNy", description = "the capital neurons to verify (default L4N1406,L8N1961,L7N1137; "
                + "the most changed neurons where the model lacks them)") List<String> capitalNeurons;
        @Option(names = "--paris-neuron", paramLabel = "LxNy", description = "the Paris neuron to verify (default L11N369)") String parisNeuron;

        @Override
        public Integer call() {
            GradientAttribution.Options defaults = GradientAttribution.Options.DEFAULTS;
            GradientAttribution.Options options = new GradientAttribution.Options(
                    capitalNeurons == null ? defaults.capitalNeurons() : capitalNeurons.stream().map(Neuron::parse).toList(),
                    parisNeuron == null ? defaults.parisNeuron() : Neuron.parse(parisNeuron));
            LoadedModel loaded = model.load(ShippedModels.GPT2, "default");
            try (Report report = out.report("Gradient attribution (notebook 000) on " + model.name(ShippedModels.GPT2))) {
                GradientAttribution.run(loaded, options, report);
                countPasses(report, loaded);
                report.finish();
            }
            return 0;
        }
    }

    @Command(name = "solu-outliers", mixinStandardHelpOptions = true,
            description = "Notebook 004 (solu-1l, fold_ln, center_writing_weights, center_unembed, refactor_factored_attn_matrices): "
                    + "per-position zero-ablation of hook_mid against its outlier score, before and after the MLP's layer norm. "
                    + "Default model: " + ShippedModels.SOLU + ".")
    static final class SoluOutliersCommand implements Callable<Integer> {
        @Mixin ModelOption model;
        @Mixin OutOption out;
        @Option(names = "--layer", defaultValue = "0", description = "the SoLU layer (default ${DEFAULT-VALUE})") int layer;
        @Option(names = "--top-k", defaultValue = "10", description = "positions to list (default ${DEFAULT-VALUE})") int topK;
        @Option(names = "--seed", defaultValue = "0", description = "seed of the random positions (default ${DEFAULT-VALUE})") long seed;

        @Override
        public Integer call() {
            NumberFlag.require(topK > 0, "--top-k", topK, "positive");
            LoadedModel loaded = model.load(ShippedModels.SOLU, "default,refactor_factored_attn_matrices");
            SoluOutliers.requireSolu(loaded.model());
            if (layer < 0 || layer >= loaded.model().cfg().nLayers()) {
                throw new JlensException("--layer " + layer + " is not a layer of this " + loaded.model().cfg().nLayers() + "-layer model.");
            }
            try (Report report = out.report("SoLU outliers (notebook 004) on " + model.name(ShippedModels.SOLU))) {
                SoluOutliers.run(loaded, layer, topK, seed, report);
                countPasses(report, loaded);
                report.finish();
            }
            return 0;
        }
    }

    @Command(name = "french-neuron", mixinStandardHelpOptions = true,
            description = "Notebook 001 (pythia-70m-v0, fold_ln): a French neuron found by sparse probing of an MLP layer; its activations, "
                    + "mean-ablation, later neurons, direct logit attribution and activation by position. Default model: " + ShippedModels.NEOX + ".")
    static final class FrenchNeuronCommand implements Callable<Integer> {
        @Mixin ModelOption model;
        @Mixin OutOption out;
        @Option(names = "--french", paramLabel = "FILE", description = "French samples: a JSON list of strings or one sample per line "
                + "(default: held-out French text of the organism corpus)") Path french;
        @Option(names = "--non-french", paramLabel = "FILE", description = "other samples, same formats (default: held-out English text)") Path nonFrench;
        @Option(names = "--stories", paramLabel = "FILE", description = "stories, one per line (default: French stories that ship with jlens)") Path stories;
        @Option(names = "--layer", description = "the MLP layer (default: notebook 001's 3 where the model has the neuron there; "
                + "otherwise the layer of the best single-neuron probe)") Integer layer;
        @Option(names = "--neuron", description = "the neuron to study (default 609, the notebook's; the best probe where the model has none)") Integer neuron;
        @Option(names = "--samples", defaultValue = "200", description = "samples of each class to probe (default ${DEFAULT-VALUE})") int samples;
        @Option(names = "--seed", defaultValue = "0", description = "seed of the train/test splits (default ${DEFAULT-VALUE})") long seed;

        @Override
        public Integer call() {
            // Every sample's activations are held for the probes: past a hundred thousand per class they cannot be.
            NumberFlag.require(samples > 0 && samples <= 100_000, "--samples", samples, "from 1 to 100000");
            if (layer != null) NumberFlag.require(layer >= 0, "--layer", layer, "0 or more");
            if (neuron != null) NumberFlag.require(neuron >= 0, "--neuron", neuron, "0 or more");
            Recipe recipe = Recipe.named(ShippedModels.NEOX);
            OrganismCorpus.HeldOut heldOut = french == null || nonFrench == null ? OrganismCorpus.heldOut(samples, recipe) : null;
            FrenchNeuron.Data data = new FrenchNeuron.Data(
                    french == null ? heldOut.french() : TextSamples.read(french, "--french"),
                    nonFrench == null ? heldOut.english() : TextSamples.read(nonFrench, "--non-french"),
                    stories == null ? OrganismCorpus.frenchStories(20, recipe) : TextSamples.read(stories, "--stories"));
            LoadedModel loaded = model.load(ShippedModels.NEOX, "default");
            NumberFlag.requireInModel(loaded, layer, neuron);
            FrenchNeuron.Options d = FrenchNeuron.Options.DEFAULTS;
            try (Report report = out.report("French neuron (notebook 001) on " + model.name(ShippedModels.NEOX))) {
                int wantedLayer = layer == null ? FrenchNeuron.Options.ANY_LAYER : layer;
                FrenchNeuron.run(loaded, data, new FrenchNeuron.Options(wantedLayer, neuron == null ? 609 : neuron, samples, d.topK(), d.splits(), d.perNeuronK(), seed, d.batch()),
                        report);
                countPasses(report, loaded);
                report.finish();
            }
            return 0;
        }
    }

    @Command(name = "sae-features", mixinStandardHelpOptions = true,
            description = "SAE features on the organisms: each shipped SAE's quality; on neox-organism's layer-1 residual the features that best "
                    + "tell French from English, probed beside neuron L1N484; on gpt2-organism the features attribution patching singles out for IOI, "
                    + "checked by ablation; a dashboard for each. Defaults: the shipped organisms with their shipped SAEs.")
    static final class SaeFeaturesCommand implements Callable<Integer> {
        static final String FRENCH_SAE = ShippedModels.NEOX + "/blocks.1.hook_resid_post", IOI_SAE = ShippedModels.GPT2 + "/blocks.1.hook_resid_pre";

        @Mixin OutOption out;
        @Option(names = "--french-sae", paramLabel = "S", description = "an SAE on neox-organism (default " + FRENCH_SAE + ")") String frenchSae;
        @Option(names = "--ioi-sae", paramLabel = "S", description = "an SAE on gpt2-organism (default " + IOI_SAE + ")") String ioiSae;
        @Option(names = "--seed", defaultValue = "0", description = "seed of the probes' splits and the held-out prompts (default ${DEFAULT-VALUE})") long seed;

        @Override
        public Integer call() {
            Sae french = SaeOption.resolve(frenchSae == null ? FRENCH_SAE : frenchSae, "--french-sae");
            Sae ioi = SaeOption.resolve(ioiSae == null ? IOI_SAE : ioiSae, "--ioi-sae");
            LoadedModel neox = LoadedModel.load(ShippedModels.resolve(ShippedModels.NEOX), WeightProcessing.Options.DEFAULTS);
            LoadedModel gpt2 = LoadedModel.load(ShippedModels.resolve(ShippedModels.GPT2), WeightProcessing.Options.DEFAULTS);
            SaeFeatures.Options d = SaeFeatures.Options.DEFAULTS;
            SaeFeatures.Options o = new SaeFeatures.Options(d.frenchNeuron(), d.samples(), d.ioiPrompts(), d.top(), d.contexts(), d.splits(), seed);
            // Held-out documents of each organism's own mixture (another seed than training's) for the SAEs' quality and dashboards.
            SaeFeatures.Subject neoxSubject = new SaeFeatures.Subject(neox, french, ShippedModels.NEOX,
                    OrganismCorpus.documents(Recipe.named(ShippedModels.NEOX).corpus().mixture(), 7, 2000));
            SaeFeatures.Subject gpt2Subject = new SaeFeatures.Subject(gpt2, ioi, ShippedModels.GPT2,
                    OrganismCorpus.documents(Recipe.named(ShippedModels.GPT2).corpus().mixture(), 7, 2000));
            try (Report report = out.report("SAE features on the organisms")) {
                SaeFeatures.run(neoxSubject, gpt2Subject, o, report);
                countPasses(report, gpt2);
                report.finish();
            }
            return 0;
        }
    }

    @Command(name = "sweep", mixinStandardHelpOptions = true,
            description = "Patching sweeps over many prompt pairs (one per line: clean, corrupted, answer, wrong, tab-separated) on this machine: "
                    + "every neuron of one MLP layer (notebook 003) or every head's z (notebook 002), the mean normalised metric over the pairs. "
                    + "jlens spark sweep runs the same on Spark.")
    static final class SweepCommand implements Callable<Integer> {
        @Mixin ModelOption model;
        @Mixin OutOption out;
        @Option(names = "--prompts", required = true, paramLabel = "FILE", description = "prompt pairs, one per line") Path prompts;
        @Option(names = "--kind", defaultValue = "neurons", paramLabel = "K", description = "neurons, heads, resid_pre, attn_out or mlp_out (default ${DEFAULT-VALUE})") String kind;
        @Option(names = "--layer", paramLabel = "L", description = "the MLP layer of a neuron sweep (default: the last)") Integer layer;

        @Override
        public Integer call() {
            List<PromptSweep.Pair> pairs = PromptSweep.read(prompts);
            LoadedModel loaded = model.load();
            PromptSweep.Options o = PromptSweep.options(kind, layer, loaded.model().cfg());
            try (Report report = out.report("Patching sweep over " + pairs.size() + " prompt pairs (" + kind + ") on " + model.name())) {
                for (var t : PromptSweep.tables(loaded, PromptSweep.run(loaded, pairs, o), pairs.size(), o)) report.table(t);
                countPasses(report, loaded);
                report.finish();
            }
            return 0;
        }
    }
}
