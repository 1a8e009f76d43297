package dev.jlens.models;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.DataType;
import dev.jlens.engine.Tensor;
import dev.jlens.models.components.Activation;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;

/**
 * TransformerLens's weight processing, as {@code from_pretrained} applies it: each step rewrites
 * TransformerLens-named weights into an equivalent model whose log-probabilities are unchanged
 * and whose parts read more cleanly. Applied in TransformerLens's order: fold_ln,
 * center_writing_weights, center_unembed, fold_value_biases, refactor_factored_attn_matrices.
 */
public final class WeightProcessing {
    /** Which steps to apply; {@link #DEFAULTS} are {@code from_pretrained}'s. */
    public record Options(boolean foldLn, boolean centerWritingWeights, boolean centerUnembed,
                          boolean foldValueBiases, boolean refactorFactoredAttnMatrices) {
        public static final Options NONE = new Options(false, false, false, false, false);
        public static final Options DEFAULTS = new Options(true, true, true, true, false);

        /**
         * {@code none}, {@code default}, or a comma-separated list of the steps' TransformerLens names
         * ({@code fold_ln,center_writing_weights,center_unembed,fold_value_biases,refactor_factored_attn_matrices}),
         * where {@code default,refactor_factored_attn_matrices} adds to the defaults.
         */
        public static Options parse(String spec) {
            boolean[] on = new boolean[5];
            String[] names = {"fold_ln", "center_writing_weights", "center_unembed", "fold_value_biases", "refactor_factored_attn_matrices"};
            for (String raw : spec.split(",")) {
                String step = raw.trim();
                switch (step) {
                    case "none" -> { }
                    case "default" -> {
                        on[0] = on[1] = on[2] = on[3] = true;
                    }
                    default -> {
                        int i = List.of(names).indexOf(step);
                        if (i < 0) {
                            throw new JlensException("--process: unknown step '" + step + "' (known: none, default, " + String.join(", ", names) + ").");
                        }
                        on[i] = true;
                    }
                }
            }
            return new Options(on[0], on[1], on[2], on[3], on[4]);
        }

        /** One line for each asked-for step that {@link #applyInPlace} skips for {@code cfg}, as TransformerLens skips it. */
        public List<String> skippedFor(Config cfg) {
            List<String> notes = new java.util.ArrayList<>();
            if (foldLn && cfg.shortformer()) {
                notes.add("fold_ln is skipped: shortformer positions join the queries and keys after ln1, so its weights cannot be folded.");
            }
            if (centerWritingWeights && cfg.normalization() != Config.Normalization.LN) {
                notes.add("center_writing_weights is skipped: the model's " + (cfg.normalization() == Config.Normalization.RMS ? "RMS norms keep"
                        : "lack of norms keeps") + " the residual stream's mean, so centring would change its outputs.");
            }
            if (centerUnembed && cfg.outputLogitsSoftCap() > 0) {
                notes.add("center_unembed is skipped: the logits' soft cap is not the same for logits shifted by a constant, so centring would change its outputs.");
            }
            return notes;
        }
    }

    private WeightProcessing() {}

    /** A processed copy of the state dict (the input is left as it was). */
    public static Map<String, Tensor> apply(Config cfg, Map<String, Tensor> state, Options options) {
        Map<String, Tensor> copy = new LinkedHashMap<>();
        state.forEach((name, t) -> copy.put(name, t.copy()));
        return applyInPlace(cfg, copy, options);
    }

    /**
     * Processes the state dict by rewriting its tensors and entries; for a loader, which owns them,
     * so that processing needs no second copy of the weights. Returns the same map.
     */
    public static Map<String, Tensor> applyInPlace(Config cfg, Map<String, Tensor> s, Options options) {
        // 16-bit weights are widened as each step reads them, so every step computes in float32;
        // each step rounds the matrices back to their type layer by layer, as it finishes with them.
        DataType held = HeldTypes.of(s);
        // A tied unembedding becomes a matrix of its own, as in TransformerLens, as soon as a step
        // changes W_E (center_writing_weights) or W_U (fold_ln, center_unembed).
        boolean changesEitherSide = options.foldLn || options.centerUnembed && cfg.outputLogitsSoftCap() == 0 || options.centerWritingWeights;
        if (!s.containsKey("unembed.W_U") && changesEitherSide) s.put("unembed.W_U", transpose(s.get("embed.W_E")));
        // Shortformer positions are added after ln1, so ln1's weights cannot be folded into W_Q and W_K;
        // TransformerLens skips fold_ln for such models too.
        if (options.foldLn && !cfg.shortformer()) foldLayerNorm(cfg, s);
        // As in TransformerLens, only a layer norm removes the residual's mean: an RMS norm keeps it, so centring is skipped.
        if (options.centerWritingWeights && cfg.normalization() == Config.Normalization.LN) centerWritingWeights(cfg, s);
        // A soft cap does not commute with adding a constant to every logit; TransformerLens skips it too.
        if (options.centerUnembed && cfg.outputLogitsSoftCap() == 0) centerUnembed(s);
        if (options.foldValueBiases) foldValueBiases(cfg, s);
        if (options.refactorFactoredAttnMatrices) refactorFactoredAttnMatrices(cfg, s);
        HeldTypes.hold(s, held);
        return s;
    }

    /**
     * fold_ln: every layer norm's w and b go into the weights that read its output (b as
     * b_reader += b·W_reader, then W_reader *= w along its input axis); those weights are then
     * centred along their input axis, as a layer norm's output has mean zero; the norms are left
     * without parameters (TransformerLens's LayerNormPre). An RMS norm has no bias and its output
     * keeps its mean: only w is folded (into W_gate as well as W_in), with no centring (RMSNormPre).
     */
    public static void foldLayerNorm(Config cfg, Map<String, Tensor> s) {
        if (!s.containsKey("ln_final.w")) return; // already folded
        boolean layerNorm = cfg.normalization() == Config.Normalization.LN;
        if (layerNorm && cfg.gatedMlp()) {
            throw new JlensException("fold_ln cannot fold a layer norm's bias into a gated MLP, whose W_gate has no bias.");
        }
        DataType held = HeldTypes.of(s);
        for (int l = 0; l < cfg.nLayers(); l++) {
            String p = "blocks." + l + ".";
            Tensor ln1W = s.get(p + "ln1.w"), ln1B = s.get(p + "ln1.b"), ln2W = s.get(p + "ln2.w"), ln2B = s.get(p + "ln2.b");
            foldIntoHeads(ln1W, ln1B, s.get(p + "attn.W_Q"), s.get(p + "attn.b_Q"), layerNorm);
            for (String kv : new String[] {"K", "V"}) {
                foldIntoHeads(ln1W, ln1B, s.get(p + ParameterShapes.keyValueName(cfg, "W_" + kv)),
                        s.get(p + ParameterShapes.keyValueName(cfg, "b_" + kv)), layerNorm);
            }
            foldIntoMatrix(ln2W, ln2B, s.get(p + "mlp.W_in"), s.get(p + "mlp.b_in"), layerNorm);
            if (cfg.gatedMlp()) foldIntoMatrix(ln2W, null, s.get(p + "mlp.W_gate"), null, false);
            if (cfg.actFn() == Activation.SOLU_LN) {
                foldIntoMatrix(s.get(p + "mlp.ln.w"), s.get(p + "mlp.ln.b"), s.get(p + "mlp.W_out"), s.get(p + "mlp.b_out"), layerNorm);
                s.remove(p + "mlp.ln.w");
                s.remove(p + "mlp.ln.b");
            }
            for (String ln : new String[] {"ln1.w", "ln1.b", "ln2.w", "ln2.b"}) s.remove(p + ln);
            HeldTypes.hold(s, p, held);
        }
        foldIntoMatrix(s.get("ln_final.w"), s.get("ln_final.b"), s.get("unembed.W_U"), s.get("unembed.b_U"), layerNorm);
        s.remove("ln_final.w");
        s.remove("ln_final.b");
        HeldTypes.hold(s, "unembed.", held);
    }

    /**
     * W [in, out] reading a norm's output: b_out += b·W (where the norm has a bias), W *= w per input
     * row, then, after a layer norm, centre each column.
     */
    private static void foldIntoMatrix(Tensor lnW, Tensor lnB, Tensor w, Tensor bias, boolean center) {
        foldIntoMatrix(lnW, lnB, w, 0, w.dim(0), w.dim(1), bias, 0, center);
    }

    /**
     * As {@link #foldIntoMatrix(Tensor, Tensor, Tensor, Tensor, boolean)} for the [in, out] matrix
     * at {@code offset} of w and the out biases at {@code biasOffset} of bias. Row by row, so that a
     * 16-bit matrix is never widened whole: the first pass reads the sums (the bias's from the
     * weights as they were, the column means from the scaled ones), the second writes each row
     * once, rounded once.
     */
    private static void foldIntoMatrix(Tensor lnW, Tensor lnB, Tensor w, long offset, int in, int out, Tensor bias, int biasOffset, boolean center) {
        float[] scale = lnW.data(), shift = lnB == null ? null : lnB.data(), row = new float[out];
        double[] folded = new double[out], mean = new double[out];
        for (int i = 0; i < in; i++) {
            w.read(offset + (long) i * out, row, 0, out);
            for (int j = 0; j < out; j++) {
                if (shift != null) folded[j] += (double) shift[i] * row[j];
                mean[j] += row[j] * scale[i];
            }
        }
        if (shift != null) for (int j = 0; j < out; j++) bias.data()[biasOffset + j] += (float) folded[j];
        for (int i = 0; i < in; i++) {
            w.read(offset + (long) i * out, row, 0, out);
            for (int j = 0; j < out; j++) {
                row[j] *= scale[i];
                if (center) row[j] -= (float) (mean[j] / in);
            }
            w.write(row, 0, offset + (long) i * out, out);
        }
    }

    /** As {@link #foldIntoMatrix} for each head's W [heads, d_model, d_head] and b [heads, d_head]. */
    private static void foldIntoHeads(Tensor lnW, Tensor lnB, Tensor w, Tensor bias, boolean center) {
        int heads = w.dim(0), d = w.dim(1), dh = w.dim(2);
        for (int h = 0; h < heads; h++) foldIntoMatrix(lnW, lnB, w, (long) h * d * dh, d, dh, bias, h * dh, center);
    }

    /**
     * center_writing_weights: every weight that writes to the residual stream (W_E, W_pos, W_O,
     * b_O, W_out, b_out) loses its mean over d_model, which every layer norm removes anyway.
     */
    public static void centerWritingWeights(Config cfg, Map<String, Tensor> s) {
        DataType held = HeldTypes.of(s);
        centerRows(s.get("embed.W_E"));
        HeldTypes.hold(s, "embed.", held);
        // Shortformer positions never enter the residual stream: no layer norm removes their mean.
        if (!cfg.rotary() && !cfg.shortformer()) centerRows(s.get("pos_embed.W_pos"));
        HeldTypes.hold(s, "pos_embed.", held);
        for (int l = 0; l < cfg.nLayers(); l++) {
            String p = "blocks." + l + ".";
            Tensor wO = s.get(p + "attn.W_O");
            centerRows(wO.reshape(wO.dim(0) * wO.dim(1), wO.dim(2)));
            centerRows(s.get(p + "attn.b_O").reshape(1, cfg.dModel()));
            centerRows(s.get(p + "mlp.W_out"));
            centerRows(s.get(p + "mlp.b_out").reshape(1, cfg.dModel()));
            HeldTypes.hold(s, p, held);
        }
    }

    /** center_unembed: W_U and b_U lose their mean over the vocabulary; softmax ignores a constant shift. */
    public static void centerUnembed(Map<String, Tensor> s) {
        DataType held = HeldTypes.of(s);
        centerRows(s.get("unembed.W_U"));
        Tensor bU = s.get("unembed.b_U");
        centerRows(bU.reshape(1, bU.size()));
        HeldTypes.hold(s, "unembed.", held);
    }

    /**
     * fold_value_biases: attention patterns sum to one, so each head's value bias adds the constant
     * b_V[h]·W_O[h] to the layer's output: b_O += Σ_h b_V[h]·W_O[h], and b_V = 0. With grouped
     * keys and values, head h reads value head h / (H/G).
     */
    public static void foldValueBiases(Config cfg, Map<String, Tensor> s) {
        int perGroup = cfg.nHeads() / cfg.nKeyValueHeads();
        DataType held = HeldTypes.of(s);
        for (int l = 0; l < cfg.nLayers(); l++) {
            String p = "blocks." + l + ".";
            Tensor bV = s.get(p + ParameterShapes.keyValueName(cfg, "b_V")), wO = s.get(p + "attn.W_O"), bO = s.get(p + "attn.b_O");
            int heads = wO.dim(0), dh = wO.dim(1), d = wO.dim(2);
            double[] sum = new double[d];
            float[] row = new float[d];
            for (int h = 0; h < heads; h++) {
                for (int e = 0; e < dh; e++) {
                    // W_O is read a row at a time, never widened whole: it is not changed.
                    wO.read((long) (h * dh + e) * d, row, 0, d);
                    double v = bV.data()[h / perGroup * dh + e];
                    for (int j = 0; j < d; j++) sum[j] += v * row[j];
                }
            }
            for (int j = 0; j < d; j++) bO.data()[j] += (float) sum[j];
            java.util.Arrays.fill(bV.data(), 0f);
            HeldTypes.hold(s, p, held);
        }
    }

    /**
     * refactor_factored_attn_matrices: only W_QK = W_Q·W_Kᵀ and W_OV = W_V·W_O determine a head,
     * so each is refactored by its singular value decomposition. With the biases appended as a
     * (d_model+1)-th input row, W_QK = U·S·Vᵀ gives W_Q = U·√S and W_K = V·√S (equal norms); the
     * value biases are folded into b_O and W_OV = U·S·Vᵀ gives W_V = U·S and W_O = Vᵀ (a rotation).
     * Singular vectors are defined up to sign, so q, k, v and z may differ in sign per dimension from
     * TransformerLens's; every product the model computes is the same.
     */
    public static void refactorFactoredAttnMatrices(Config cfg, Map<String, Tensor> s) {
        if (cfg.rotary()) {
            throw new JlensException("refactor_factored_attn_matrices cannot be applied to a rotary model: "
                    + "its QK matrix depends on the positions of query and key.");
        }
        if (cfg.groupedQueryAttention()) {
            throw new JlensException("refactor_factored_attn_matrices cannot be applied to grouped-query attention: "
                    + "query heads that share a key head cannot each be given their own.");
        }
        foldValueBiases(cfg, s);
        int heads = cfg.nHeads(), d = cfg.dModel(), dh = cfg.dHead();
        DataType held = HeldTypes.of(s);
        for (int l = 0; l < cfg.nLayers(); l++) {
            String p = "blocks." + l + ".attn.";
            Tensor wQ = s.get(p + "W_Q"), wK = s.get(p + "W_K"), bQ = s.get(p + "b_Q"), bK = s.get(p + "b_K");
            Tensor wV = s.get(p + "W_V"), wO = s.get(p + "W_O");
            for (int h = 0; h < heads; h++) {
                double[][] qEff = new double[d + 1][dh], kEff = new double[d + 1][dh];
                for (int i = 0; i < d; i++) {
                    for (int e = 0; e < dh; e++) {
                        qEff[i][e] = wQ.data()[(h * d + i) * dh + e];
                        kEff[i][e] = wK.data()[(h * d + i) * dh + e];
                    }
                }
                for (int e = 0; e < dh; e++) {
                    qEff[d][e] = bQ.data()[h * dh + e];
                    kEff[d][e] = bK.data()[h * dh + e];
                }
                Svd qk = Svd.ofProduct(new Array2DRowRealMatrix(qEff, false), new Array2DRowRealMatrix(kEff, false).transpose());
                for (int i = 0; i <= d; i++) {
                    for (int e = 0; e < dh; e++) {
                        float q = (float) (qk.u.getEntry(i, e) * Math.sqrt(qk.s[e])), k = (float) (qk.v.getEntry(i, e) * Math.sqrt(qk.s[e]));
                        if (i < d) {
                            wQ.data()[(h * d + i) * dh + e] = q;
                            wK.data()[(h * d + i) * dh + e] = k;
                        } else {
                            bQ.data()[h * dh + e] = q;
                            bK.data()[h * dh + e] = k;
                        }
                    }
                }
                double[][] v = new double[d][dh], o = new double[dh][d];
                for (int i = 0; i < d; i++) for (int e = 0; e < dh; e++) v[i][e] = wV.data()[(h * d + i) * dh + e];
                for (int e = 0; e < dh; e++) for (int j = 0; j < d; j++) o[e][j] = wO.data()[(h * dh + e) * d + j];
                Svd ov = Svd.ofProduct(new Array2DRowRealMatrix(v, false), new Array2DRowRealMatrix(o, false));
                for (int i = 0; i < d; i++) for (int e = 0; e < dh; e++) wV.data()[(h * d + i) * dh + e] = (float) (ov.u.getEntry(i, e) * ov.s[e]);
                for (int e = 0; e < dh; e++) for (int j = 0; j < d; j++) wO.data()[(h * dh + e) * d + j] = (float) ov.v.getEntry(j, e);
            }
            HeldTypes.hold(s, "blocks." + l + ".", held);
        }
    }

    /**
     * The thin SVD of a product A·B (A [m, k], B [k, n], k small) without forming it, as
     * TransformerLens's FactoredMatrix does: A = Ua·Sa·Vaᵀ, B = Ub·Sb·Vbᵀ, then the k×k middle
     * Sa·Vaᵀ·Ub·Sb = Um·S·Vmᵀ, so A·B = (Ua·Um)·S·(Vb·Vm)ᵀ.
     */
    private record Svd(RealMatrix u, double[] s, RealMatrix v) {
        static Svd ofProduct(RealMatrix a, RealMatrix b) {
            SingularValueDecomposition da = new SingularValueDecomposition(a), db = new SingularValueDecomposition(b);
            RealMatrix middle = da.getS().multiply(da.getVT()).multiply(db.getU()).multiply(db.getS());
            SingularValueDecomposition dm = new SingularValueDecomposition(middle);
            return new Svd(da.getU().multiply(dm.getU()), dm.getSingularValues(), db.getV().multiply(dm.getV()));
        }
    }

    /** Each row of t [rows, cols] loses its mean; a row at a time, so a 16-bit matrix is never widened whole. */
    private static void centerRows(Tensor t) {
        int rows = t.dim(0), cols = t.dim(1);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            t.read((long) r * cols, row, 0, cols);
            double mean = 0;
            for (int c = 0; c < cols; c++) mean += row[c];
            mean /= cols;
            for (int c = 0; c < cols; c++) row[c] -= (float) mean;
            t.write(row, 0, (long) r * cols, cols);
        }
    }

    private static Tensor transpose(Tensor t) {
        return t.transposeLastTwo();
    }

}
