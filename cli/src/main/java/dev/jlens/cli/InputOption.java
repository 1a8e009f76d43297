package dev.jlens.cli;

import dev.jlens.engine.JlensException;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** The input of one run: {@code --prompt TEXT} (BOS prepended, as TransformerLens does) or {@code --tokens 1,2,3} (as given). */
final class InputOption {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Choice choice;

    static final class Choice {
        @Option(names = "--prompt", paramLabel = "TEXT", description = "text, tokenized with BOS prepended") String prompt;

        @Option(names = "--tokens", paramLabel = "IDS", split = ",", description = "token ids, comma-separated, used as given")
        int[] tokens;
    }

    Tokens tokens(LoadedModel loaded) {
        if (choice.prompt != null) return loaded.toTokens(choice.prompt, true);
        if (choice.tokens.length == 0) throw new JlensException("--tokens needs at least one token id.");
        return Tokens.of(choice.tokens);
    }
}
