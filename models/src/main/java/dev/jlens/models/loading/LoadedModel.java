package dev.jlens.models.loading;

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
 * its architecture that ships with jlens (GPT-2's, or GPT-NeoX-20B's for Pythia).
 */
public record LoadedModel(HookedTransformer model, Tokenizer tokenizer) {
    /** The model as its checkpoint has it, unprocessed. */
    public static LoadedModel load(Path dir) {
        return load(dir, WeightProcessing.Options.NONE);
    }

    public static LoadedModel load(Path dir, WeightProcessing.Options processing) {
        // The tokenizer first: its parsing garbage dies while the heap is small, not on top of the weights.
        Config cfg = ModelLoader.config(dir);
        Tokenizer tokenizer = tokenizerFor(dir, cfg);
        LoadedModel loaded = new LoadedModel(ModelLoader.load(dir, processing), tokenizer);
        // Loading leaves the file's conversions behind as garbage; collecting it now, while it is the
        // only garbage, keeps the collector from growing the heap around it during the first runs.
        System.gc();
        return loaded;
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
        return Tokens.of(tokenizer.toTokens(text, prependBos));
    }
}
