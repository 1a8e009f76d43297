package dev.jlens.cli;

import dev.jlens.analysis.TestPrompt;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code jlens predict}: TransformerLens's {@code test_prompt}. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "TransformerLens's test_prompt: the tokenization, the answer's rank, logit and probability, and the top-k table.")
final class PredictCommand implements Callable<Integer> {
    @Mixin ModelOption modelOption;
    @Option(names = "--prompt", required = true, paramLabel = "TEXT") String prompt;
    @Option(names = "--answer", paramLabel = "TEXT", description = "the expected continuation") String answer;
    @Option(names = "--top-k", defaultValue = "10", description = "rows of the top table (default ${DEFAULT-VALUE})") int topK;
    @Option(names = "--no-prepend-bos", description = "do not put BOS before the prompt") boolean noBos;

    @Override
    public Integer call() {
        NumberFlag.require(topK > 0, "--top-k", topK, "positive");
        System.out.print(TestPrompt.render(modelOption.load(), prompt, answer, topK, !noBos));
        return 0;
    }
}
