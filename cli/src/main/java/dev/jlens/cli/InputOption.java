package dev.jlens.cli;

import dev.jlens.engine.JlensException;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * The input of one run: {@code --prompt TEXT} (BOS prepended, as TransformerLens does, unless
 * {@code --no-prepend-bos}) or {@code --tokens 1,2,3} (as given).
 */
final class InputOption {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Choice choice;

    @Option(names = "--no-prepend-bos", description = "do not put BOS before --prompt's tokens") boolean noBos;

    static final class Choice {
        @Option(names = "--prompt", paramLabel = "TEXT", description = "text, tokenized with BOS prepended") String prompt;

        @Option(names = "--tokens", paramLabel = "IDS", split = ",", description = "token ids, comma-separated, used as given")
        int[] tokens;
    }

    Tokens tokens(LoadedModel loaded) {
        if (choice.prompt != null) {
            Tokens tokens = loaded.toTokens(choice.prompt, !noBos);
            if (tokens.pos() == 0) throw new JlensException("--prompt is empty and --no-prepend-bos leaves no token to run.");
            return tokens;
        }
        if (choice.tokens.length == 0) throw new JlensException("--tokens needs at least one token id.");
        return Tokens.of(choice.tokens);
    }

    /** Whether the first token is a BOS jlens put there (not one the user's text or ids hold). */
    boolean prependedBos() {
        return choice.prompt != null && !noBos;
    }
}
