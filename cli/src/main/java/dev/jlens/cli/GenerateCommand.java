package dev.jlens.cli;

import dev.jlens.engine.JlensException;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.generation.Generator;
import dev.jlens.models.generation.Sampling;
import dev.jlens.models.generation.TextStream;
import dev.jlens.models.loading.LoadedModel;
import dev.jlens.models.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code jlens generate}: TransformerLens's {@code generate}, streamed to the terminal. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continues the prompt token by token (KV cache, greedy or sampled), printing the text as it grows.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin ModelOption modelOption;
    @Mixin InputOption input;
    @Option(names = "--max-new-tokens", defaultValue = "10", paramLabel = "N", description = "tokens to add at most (default ${DEFAULT-VALUE})") int maxNewTokens;
    @Option(names = "--temperature", defaultValue = "1.0", paramLabel = "T", description = "0 is greedy (default ${DEFAULT-VALUE})") double temperature;
    @Option(names = "--top-k", paramLabel = "K", description = "sample among the K likeliest tokens") Integer topK;
    @Option(names = "--top-p", paramLabel = "P", description = "sample among the likeliest tokens whose probability reaches P, in (0, 1]") Double topP;
    @Option(names = "--freq-penalty", defaultValue = "0", paramLabel = "F", description = "lower each token's logit by F per time it occurs already (TransformerLens's freq_penalty)") double freqPenalty;
    @Option(names = "--seed", paramLabel = "S", description = "seed of the draws: the same seed gives the same text (default: a new one each run)") Long seed;
    @Option(names = "--stop", paramLabel = "TEXT", description = "stop once the continuation contains TEXT (repeatable)") List<String> stops;
    @Option(names = "--no-stop-at-eos", description = "go on past the end-of-sequence token") boolean noStopAtEos;
    @Option(names = "--no-cache", description = "recompute the whole sequence at every step instead of reading a KV cache") boolean noCache;
    @Option(names = "--ids", description = "print only a JSON array of the new token ids") boolean ids;

    @Override
    public Integer call() {
        NumberFlag.require(maxNewTokens >= 0, "--max-new-tokens", maxNewTokens, "0 or more");
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new JlensException("--temperature must be 0 (greedy) or more, not " + temperature + ".");
        }
        if (topK != null) NumberFlag.require(topK >= 1, "--top-k", topK, "at least 1");
        if (topP != null && !(topP > 0 && topP <= 1)) throw new JlensException("--top-p must be in (0, 1], not " + topP + ".");
        if (!(freqPenalty >= 0) || Double.isInfinite(freqPenalty)) throw new JlensException("--freq-penalty must be 0 or more, not " + freqPenalty + ".");
        if (!ids && stops != null && stops.stream().anyMatch(String::isEmpty)) throw new JlensException("--stop needs a non-empty text.");
        Sampling sampling = new Sampling(temperature, topK == null ? 0 : topK, topP == null ? 1 : topP, freqPenalty,
                seed != null ? seed : System.nanoTime());

        LoadedModel loaded = modelOption.load();
        HookedTransformer model = loaded.model();
        Tokens prompt = input.tokens(loaded);
        Tokenizer tokenizer = ids ? null : loaded.tokenizer();
        Integer eos = noStopAtEos ? null : eosOf(loaded);
        Generator.Options options = new Generator.Options(maxNewTokens, sampling, eos == null ? -1 : eos, !noCache);

        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        if (ids) {
            int[] generated = Generator.generate(model, new int[][] {prompt.sequence(0)}, options, Generator.Listener.NONE)[0];
            out.println(Arrays.stream(generated).mapToObj(Integer::toString).collect(Collectors.joining(",", "[", "]")));
            return 0;
        }
        // The text is the prompt's (without the BOS jlens put there) and the continuation's, decoded
        // as one, so that nothing at their border decodes differently from the whole.
        int[] promptIds = prompt.sequence(0);
        TextStream stream = new TextStream(tokenizer, text -> {
            out.print(text);
            out.flush();
        });
        boolean[] started = {false};
        Generator.Listener printing = (sequence, token, generated) -> {
            if (!started[0]) {
                stream.acceptAll(input.prependedBos() ? Arrays.copyOfRange(promptIds, 1, promptIds.length) : promptIds);
                started[0] = true;
            }
            if (eos != null && token == eos) return true; // the end token ends the text; it is not printed
            stream.accept(token);
            return stops != null && stops.stream().anyMatch(stream.continuation()::contains);
        };
        Generator.generate(model, new int[][] {promptIds}, options, printing);
        if (!started[0]) stream.acceptAll(input.prependedBos() ? Arrays.copyOfRange(promptIds, 1, promptIds.length) : promptIds);
        stream.finish();
        out.println();
        return 0;
    }

    /** The token generation stops at: the tokenizer's end-of-sequence token, when there is a tokenizer that names one. */
    private static Integer eosOf(LoadedModel loaded) {
        try {
            return loaded.tokenizer().eosToken();
        } catch (JlensException noTokenizer) {
            return null;
        }
    }
}
