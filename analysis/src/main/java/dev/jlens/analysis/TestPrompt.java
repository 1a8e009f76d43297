package dev.jlens.analysis;

import dev.jlens.engine.Tensor;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import dev.jlens.models.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * TransformerLens's {@code utils.test_prompt}: the tokenization, the answer's rank, logit and
 * probability, and the top-k next tokens, printed in its format. Hooks on the model apply, so an
 * ablated run is the same call inside a hook scope.
 */
public final class TestPrompt {
    private TestPrompt() {}

    public static String render(LoadedModel loaded, String prompt, String answer, int topK, boolean prependBos) {
        Tokenizer tok = loaded.tokenizer();
        int[] promptIds = tok.toTokens(prompt, prependBos);
        int[] answerIds = answer == null ? new int[0] : tok.encode(answer);
        int[] all = new int[promptIds.length + answerIds.length];
        System.arraycopy(promptIds, 0, all, 0, promptIds.length);
        System.arraycopy(answerIds, 0, all, promptIds.length, answerIds.length);
        Tensor logits = loaded.model().forward(Tokens.of(all));
        int vocab = logits.dim(2), k = Math.max(1, Math.min(topK, vocab));

        StringBuilder out = new StringBuilder();
        out.append("Tokenized prompt: ").append(quoted(tok.toStrTokens(promptIds))).append('\n');
        if (answer != null) out.append("Tokenized answer: ").append(quoted(tok.toStrTokens(answerIds))).append('\n');
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
                out.append("Performance on answer token:\n");
                out.append(String.format(Locale.ROOT, "Rank: %-8d Logit: %5.2f Prob: %5.2f%% Token: |%s|%n", rank,
                        logits.data()[position * vocab + target], 100 * Math.exp(logProbs[target]), tok.decode(target)));
                ranks.add("('" + tok.decode(target) + "', " + rank + ")");
            }
            for (int r = 0; r < k; r++) {
                int id = byRank[r];
                out.append(String.format(Locale.ROOT, "Top %dth token. Logit: %5.2f Prob: %5.2f%% Token: |%s|%n", r,
                        logits.data()[position * vocab + id], 100 * Math.exp(logProbs[id]), tok.decode(id)));
            }
        }
        if (answer != null) out.append("Ranks of the answer tokens: [").append(String.join(", ", ranks)).append("]\n");
        return out.toString();
    }

    private static String quoted(List<String> strings) {
        return strings.stream().map(s -> "'" + s.replace("\n", "\\n") + "'").collect(Collectors.joining(", ", "[", "]"));
    }

    public static double[] logSoftmax(float[] logits, int offset, int n) {
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
