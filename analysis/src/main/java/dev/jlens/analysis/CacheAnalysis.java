package dev.jlens.analysis;

import dev.jlens.engine.Backend;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.ActivationCache;
import dev.jlens.models.HookedTransformer;
import java.util.ArrayList;
import java.util.List;

/**
 * TransformerLens's ActivationCache analysis over one run's cache: the residual stream as
 * accumulated layer by layer ({@code accumulated_resid}) or as the sum of what each part wrote
 * ({@code decompose_resid}), per-head outputs ({@code stack_head_results}), the final layer norm
 * applied with the scale the real forward pass used ({@code apply_ln_to_stack}), and direct logit
 * attribution ({@code logit_attrs}). The cache must hold the hook points each asks for (a cache of
 * every hook point always does).
 */
public final class CacheAnalysis {
    /** Which writers {@link #decomposeResid} lists per layer. */
    public enum Mode { ALL, ATTN, MLP }

    private final HookedTransformer model;
    private final ActivationCache cache;
    private final int nLayers;

    public CacheAnalysis(HookedTransformer model, ActivationCache cache) {
        this.model = model;
        this.cache = cache;
        this.nLayers = model.cfg().nLayers();
    }

    /**
     * accumulated_resid: the residual entering each layer below {@code layer} ("{l}_pre", and
     * "{l}_mid" after attention when {@code inclMid}), then "final_post" when {@code layer == n_layers}.
     */
    public ResidualStack accumulatedResid(int layer, boolean inclMid, PosSlice posSlice) {
        checkLayer(layer);
        List<Tensor> parts = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int l = 0; l < layer; l++) {
            parts.add(cache.get(ActNames.of("resid_pre", l)));
            labels.add(l + "_pre");
            if (inclMid) {
                parts.add(cache.get(ActNames.of("resid_mid", l)));
                labels.add(l + "_mid");
            }
        }
        if (layer == nLayers) {
            parts.add(cache.get(ActNames.of("resid_post", nLayers - 1)));
            labels.add("final_post");
        }
        return stack(parts, labels, posSlice);
    }

    /**
     * decompose_resid: what each part wrote to the residual stream before block {@code layer}:
     * "embed" and "pos_embed" (when {@code inclEmbeds}; positions only when they enter the residual),
     * then "{l}_attn_out" and/or "{l}_mlp_out" per layer. The components sum to the residual entering
     * {@code layer} (the final residual for {@code layer == n_layers}).
     */
    public ResidualStack decomposeResid(int layer, Mode mode, boolean inclEmbeds, PosSlice posSlice) {
        checkLayer(layer);
        List<Tensor> parts = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        if (inclEmbeds) {
            parts.add(cache.get("hook_embed"));
            labels.add("embed");
            if (!model.cfg().rotary() && !model.cfg().shortformer()) {
                parts.add(cache.get("hook_pos_embed"));
                labels.add("pos_embed");
            }
        }
        for (int l = 0; l < layer; l++) {
            if (mode != Mode.MLP) {
                parts.add(cache.get(ActNames.of("attn_out", l)));
                labels.add(l + "_attn_out");
            }
            if (mode != Mode.ATTN) {
                parts.add(cache.get(ActNames.of("mlp_out", l)));
                labels.add(l + "_mlp_out");
            }
        }
        return stack(parts, labels, posSlice);
    }

    /**
     * stack_head_results: each head's output z[h]·W_O[h] for the layers below {@code layer}, labelled
     * "L{l}H{h}", from the cached hook_z (so no hook_result is needed). Their sum over heads plus b_O
     * is the layer's attention output.
     */
    public ResidualStack stackHeadResults(int layer, PosSlice posSlice) {
        checkLayer(layer);
        int heads = model.cfg().nHeads(), dHead = model.cfg().dHead(), d = model.cfg().dModel();
        List<Tensor> parts = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int l = 0; l < layer; l++) {
            Tensor z = cache.get(ActNames.of("z", l));
            Tensor wO = model.parameter("blocks." + l + ".attn.W_O").value();
            Backend ops = Backend.of(wO);
            int rows = z.dim(0) * z.dim(1);
            for (int h = 0; h < heads; h++) {
                Tensor out = ops.empty(z.dim(0), z.dim(1), d);
                ops.matmul(Matrix.of(z, h * dHead, rows, dHead, heads * dHead), Matrix.of(wO, h * dHead * d, dHead, d, d), null, Matrix.of(out, rows, d));
                parts.add(out);
                labels.add("L" + l + "H" + h);
            }
        }
        return stack(parts, labels, posSlice);
    }

    /**
     * apply_ln_to_stack: each component centred over d_model and divided by the scale the final
     * layer norm used in the real forward pass (ln_final.hook_scale, sliced like the stack), so that
     * the components' images add up to the normalised final residual. Like TransformerLens, the
     * norm's weight and bias are not applied: with fold_ln they are folded into W_U and b_U.
     */
    public ResidualStack applyLnToStack(ResidualStack stack, PosSlice posSlice) {
        Tensor scale = cache.get("ln_final.hook_scale");
        int n = stack.values().dim(0), batch = stack.values().dim(1), pos = stack.values().dim(2), d = stack.values().dim(3);
        int[] positions = posSlice.positions(scale.dim(1));
        if (positions.length != pos) {
            throw new JlensException("the stack has " + pos + " positions but the slice selects " + positions.length + ".");
        }
        float[] in = stack.values().data(), out = new float[in.length];
        for (int c = 0; c < n; c++) {
            for (int b = 0; b < batch; b++) {
                for (int p = 0; p < pos; p++) {
                    int at = ((c * batch + b) * pos + p) * d;
                    double mean = 0;
                    for (int i = 0; i < d; i++) mean += in[at + i];
                    mean /= d;
                    float s = scale.get(b, positions[p], 0);
                    for (int i = 0; i < d; i++) out[at + i] = (float) ((in[at + i] - mean) / s);
                }
            }
        }
        return new ResidualStack(Tensor.of(out, n, batch, pos, d), stack.labels());
    }

    /**
     * logit_attrs: each component's direct contribution to the logit of {@code tokens[b]} (minus that
     * of {@code incorrect[b]} when given) for prompt b: apply_ln_to_stack, then the dot product with
     * the tokens' residual directions. Result [components, batch, pos].
     */
    public Tensor logitAttrs(ResidualStack stack, int[] tokens, int[] incorrect, PosSlice posSlice) {
        ResidualStack scaled = applyLnToStack(stack, posSlice);
        int n = scaled.values().dim(0), batch = scaled.values().dim(1), pos = scaled.values().dim(2), d = scaled.values().dim(3);
        if (tokens.length != batch || (incorrect != null && incorrect.length != batch)) {
            throw new JlensException("logit_attrs needs one token per prompt: " + tokens.length + " for a batch of " + batch + ".");
        }
        float[] out = new float[n * batch * pos];
        Backend ops = Backend.of(scaled.values());
        for (int b = 0; b < batch; b++) {
            float[] direction = tokensToResidualDirection(tokens[b]);
            if (incorrect != null) {
                float[] other = tokensToResidualDirection(incorrect[b]);
                for (int i = 0; i < d; i++) direction[i] -= other[i];
            }
            Tensor directionTensor = Tensor.of(direction, d), dots = Tensor.zeros(pos);
            for (int c = 0; c < n; c++) {
                ops.matvec(Matrix.of(scaled.values(), (c * batch + b) * pos * d, pos, d, d), directionTensor, dots);
                System.arraycopy(dots.data(), 0, out, (c * batch + b) * pos, pos);
            }
        }
        return Tensor.of(out, n, batch, pos);
    }

    /** tokens_to_residual_directions: W_U[:, token], the residual direction that raises that token's logit. */
    public float[] tokensToResidualDirection(int token) {
        Tensor wU = model.parameter("unembed.W_U").value();
        int d = wU.dim(0), vocab = wU.dim(1);
        if (token < 0 || token >= vocab) throw new JlensException("token id " + token + " is outside the vocabulary of " + vocab + ".");
        float[] out = new float[d];
        for (int i = 0; i < d; i++) out[i] = wU.data()[i * vocab + token];
        return out;
    }

    private ResidualStack stack(List<Tensor> parts, List<String> labels, PosSlice posSlice) {
        if (parts.isEmpty()) throw new JlensException("the stack is empty: ask for a later layer or include the embeddings.");
        Tensor first = parts.get(0);
        int batch = first.dim(0), d = first.dim(2);
        int[] positions = posSlice.positions(first.dim(1));
        float[] out = new float[parts.size() * batch * positions.length * d];
        for (int c = 0; c < parts.size(); c++) {
            Tensor t = parts.get(c);
            for (int b = 0; b < batch; b++) {
                for (int p = 0; p < positions.length; p++) {
                    System.arraycopy(t.data(), (b * t.dim(1) + positions[p]) * d, out, ((c * batch + b) * positions.length + p) * d, d);
                }
            }
        }
        return new ResidualStack(Tensor.of(out, parts.size(), batch, positions.length, d), List.copyOf(labels));
    }

    private void checkLayer(int layer) {
        if (layer < 0 || layer > nLayers) throw new JlensException("layer " + layer + " is outside the model's 0.." + nLayers + ".");
    }
}
