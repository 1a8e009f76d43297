package dev.jlens.experiments.cli;

import dev.jlens.engine.Tensor;
import dev.jlens.models.LoadedModel;
import dev.jlens.models.Tokens;
import dev.jlens.models.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
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
        LoadedModel loaded = modelOption.load();
        Tokenizer tok = loaded.tokenizer();
        int[] promptIds = tok.toTokens(prompt, !noBos);
        int[] answerIds = answer == null ? new int[0] : tok.encode(answer);
        int[] all = new int[promptIds.length + answerIds.length];
        System.arraycopy(promptIds, 0, all, 0, promptIds.length);
        System.arraycopy(answerIds, 0, all, promptIds.length, answerIds.length);
        Tensor logits = loaded.model().forward(Tokens.of(all));
        int vocab = logits.dim(2), k = Math.max(1, Math.min(topK, vocab));

        System.out.println("Tokenized prompt: " + quoted(tok.toStrTokens(promptIds)));
        if (answer != null) System.out.println("Tokenized answer: " + quoted(tok.toStrTokens(answerIds)));
        List<String> ranks = new ArrayList<>();
        // Each answer token is scored at the position before it, the earlier answer tokens given.
        int predictions = Math.max(1, answerIds.length);
        for (int i = 0; i < predictions; i++) {
            int position = promptIds.length - 1 + i;
            double[] logProbs = logSoftmax(logits.data(), position * vocab, vocab);
            int[] byRank = IntStream.range(0, vocab).boxed()
                    .sorted(Comparator.comparingDouble((Integer id) -> -logProbs[id]).thenComparingInt(id -> id))
                    .mapToInt(Integer::intValue).toArray();
            if (answer != null) {
                int target = answerIds[i];
                int rank = indexOf(byRank, target);
                System.out.println("Performance on answer token:");
                System.out.printf("Rank: %-8d Logit: %5.2f Prob: %5.2f%% Token: |%s|%n", rank,
                        logits.data()[position * vocab + target], 100 * Math.exp(logProbs[target]), tok.decode(target));
                ranks.add("('" + tok.decode(target) + "', " + rank + ")");
            }
            for (int r = 0; r < k; r++) {
                int id = byRank[r];
                System.out.printf("Top %dth token. Logit: %5.2f Prob: %5.2f%% Token: |%s|%n", r,
                        logits.data()[position * vocab + id], 100 * Math.exp(logProbs[id]), tok.decode(id));
            }
        }
        if (answer != null) System.out.println("Ranks of the answer tokens: [" + String.join(", ", ranks) + "]");
        return 0;
    }

    private static String quoted(List<String> strings) {
        return strings.stream().map(s -> "'" + s.replace("\n", "\\n") + "'").collect(Collectors.joining(", ", "[", "]"));
    }

    static double[] logSoftmax(float[] logits, int offset, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[offset + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(logits[offset + i] - max);
        double lse = max + Math.log(sum);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = logits[offset + i] - lse;
        return out;
    }

    private static int indexOf(int[] values, int target) {
        for (int i = 0; i < values.length; i++) if (values[i] == target) return i;
        throw new IllegalArgumentException("token " + target + " is not in the vocabulary");
    }
}
