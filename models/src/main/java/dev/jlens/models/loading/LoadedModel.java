package dev.jlens.models.loading;

import dev.jlens.engine.DataType;
import dev.jlens.engine.JlensException;
import dev.jlens.models.Config;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.WeightProcessing;
import dev.jlens.models.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A model with its tokenizer, as a model directory provides them: the tokenizer is the directory's
 * {@code tokenizer.json}, else its {@code vocab.json} + {@code merges.txt}, else the tokenizer of
 * its architecture that ships with jlens (GPT-2's, or GPT-NeoX-20B's for Pythia). A directory with
 * none (a random Llama of a real shape) still loads: what needs no tokenizer (token ids given as
 * they are, benchmarks) runs, and asking for the tokenizer says what is missing.
 */
public final class LoadedModel {
    private final HookedTransformer model;
    private final Tokenizer tokenizer;
    private final JlensException noTokenizer;

    private LoadedModel(HookedTransformer model, Tokenizer tokenizer, JlensException noTokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.noTokenizer = noTokenizer;
    }

    public HookedTransformer model() {
        return model;
    }

    public Tokenizer tokenizer() {
        if (tokenizer == null) throw noTokenizer;
        return tokenizer;
    }

    /** The model as its checkpoint has it, unprocessed. */
    public static LoadedModel load(Path dir) {
        return load(dir, WeightProcessing.Options.NONE);
    }

    public static LoadedModel load(Path dir, WeightProcessing.Options processing) {
        return load(dir, processing, null);
    }

    /** As {@link #load(Path, WeightProcessing.Options)}, the weight matrices held as {@code dtype} (as stored when null). */
    public static LoadedModel load(Path dir, WeightProcessing.Options processing, DataType dtype) {
        // The tokenizer first: its parsing garbage dies while the heap is small, not on top of the weights.
        Config cfg = ModelLoader.config(dir);
        Tokenizer tokenizer = null;
        JlensException noTokenizer = null;
        if (hasTokenizer(dir, cfg)) tokenizer = tokenizerFor(dir, cfg);
        else noTokenizer = new JlensException(dir + ": has no tokenizer.json (nor vocab.json and merges.txt), and jlens bundles no "
                + cfg.family().modelType() + " tokenizer; give token ids (--tokens) or put the model's tokenizer.json beside it.");
        LoadedModel loaded = new LoadedModel(ModelLoader.load(dir, processing, dtype), tokenizer, noTokenizer);
        // Loading leaves the file's conversions behind as garbage; collecting it now, while it is the
        // only garbage, keeps the collector from growing the heap around it during the first runs.
        System.gc();
        return loaded;
    }

    /** Whether the directory has tokenizer files, or its family a tokenizer jlens ships. */
    private static boolean hasTokenizer(Path dir, Config cfg) {
        return Files.exists(dir.resolve("tokenizer.json")) || Files.exists(dir.resolve("vocab.json")) || Files.exists(dir.resolve("merges.txt"))
                || cfg.family() == dev.jlens.models.ModelFamily.GPT2 || cfg.family() == dev.jlens.models.ModelFamily.GPT_NEOX;
    }

    /**
     * The tokenizer of a model directory, or of a directory that holds only tokenizer files: its
     * tokenizer.json (or vocab.json and merges.txt), else, where its config.json names GPT-2 or
     * GPT-NeoX, the one jlens ships.
     */
    public static Tokenizer tokenizerOf(Path dir) {
        boolean own = Files.exists(dir.resolve("tokenizer.json")) || Files.exists(dir.resolve("vocab.json")) || Files.exists(dir.resolve("merges.txt"));
        if (!own && !Files.exists(dir.resolve("config.json"))) {
            throw new JlensException(dir + ": has no tokenizer.json (nor vocab.json and merges.txt), and no config.json naming a tokenizer jlens ships.");
        }
        return tokenizerFor(dir, own ? null : ModelLoader.config(dir));
    }

    /** The directory's own tokenizer files, whose errors are reported; jlens's own for the family only where it has none at all. */
    static Tokenizer tokenizerFor(Path dir, Config cfg) {
        Path json = dir.resolve("tokenizer.json"), vocab = dir.resolve("vocab.json"), merges = dir.resolve("merges.txt");
        if (Files.exists(json)) return Tokenizer.fromTokenizerJson(json);
        if (Files.exists(vocab) != Files.exists(merges)) {
            throw new JlensException(dir + ": has " + (Files.exists(vocab) ? "vocab.json but no merges.txt" : "merges.txt but no vocab.json")
                    + "; a GPT-2-style tokenizer needs both.");
        }
        if (Files.exists(vocab)) return Tokenizer.fromVocabAndMerges(vocab, merges);
        return switch (cfg.family()) {
            case GPT2 -> Tokenizer.gpt2();
            case GPT_NEOX -> Tokenizer.gptNeox();
            default -> throw new JlensException(dir + ": has no tokenizer.json (nor vocab.json and merges.txt), and jlens bundles no "
                    + cfg.family().modelType() + " tokenizer.");
        };
    }

    /** {@code to_tokens} for this model: BOS first when asked, and a clear error if it does not fit the context. */
    public Tokens toTokens(String text, boolean prependBos) {
        return Tokens.of(tokenizer().toTokens(text, prependBos));
    }
}
