package dev.jlens.experiments.report;

import dev.jlens.engine.JlensException;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import java.util.ArrayList;
import java.util.List;

/** What the notebooks do to their prompts with TransformerLens's tokenizer helpers, with the fallbacks a smaller model needs. */
public final class Prompts {
    private Prompts() {}

    /** {@code to_tokens} of several prompts: BOS first, padded on the right. */
    public static Tokens batch(LoadedModel loaded, List<String> prompts) {
        int[][] rows = new int[prompts.size()][];
        for (int i = 0; i < rows.length; i++) rows[i] = loaded.tokenizer().toTokens(prompts.get(i), true);
        Tokens tokens = Tokens.padded(loaded.tokenizer().bosToken(), rows);
        tokens.check(loaded.model().cfg());
        return tokens;
    }

    /** {@code to_tokens} with TransformerLens's default {@code truncate=True}: each text cut to the model's context. */
    public static Tokens batchTruncated(LoadedModel loaded, List<String> texts) {
        int nCtx = loaded.model().cfg().nCtx();
        int[][] rows = new int[texts.size()][];
        for (int i = 0; i < rows.length; i++) {
            int[] ids = loaded.tokenizer().toTokens(texts.get(i), true);
            rows[i] = ids.length > nCtx ? java.util.Arrays.copyOf(ids, nCtx) : ids;
        }
        return Tokens.padded(loaded.tokenizer().bosToken(), rows);
    }

    /**
     * {@code to_single_token}; where the text is several tokens for this tokenizer, its first token,
     * with a note saying so (the notebooks' answers are single tokens for GPT-2's tokenizer).
     */
    public static int singleToken(LoadedModel loaded, String text, Report report) {
        int[] ids = loaded.tokenizer().encode(text);
        if (ids.length == 0) throw new JlensException("'" + text + "' has no tokens.");
        if (ids.length > 1) {
            report.note("'" + text + "' is " + ids.length + " tokens for this model's tokenizer " + loaded.tokenizer().toStrTokens(ids)
                    + "; its first token stands for it.");
        }
        return ids[0];
    }

    /** Notebook 003's axis labels: "i. 'token'". */
    public static List<String> positionLabels(LoadedModel loaded, int[] ids) {
        List<String> labels = new ArrayList<>();
        List<String> strs = loaded.tokenizer().toStrTokens(ids);
        for (int i = 0; i < strs.size(); i++) labels.add(i + ". '" + strs.get(i).replace("\n", "\\n") + "'");
        return labels;
    }

    /** Row {@code b} of a batch, without its padding. */
    public static int[] row(Tokens tokens, int b) {
        return tokens.sequence(b);
    }

    /** The layer a notebook names, or the model's last layer when it has fewer, with a note. */
    public static int layer(int wanted, int nLayers, String what, Report report) {
        if (wanted < nLayers) return wanted;
        report.note(what + ", " + wanted + ", is past this model's " + nLayers + " layers; using layer " + (nLayers - 1) + ", its last.");
        return nLayers - 1;
    }
}
