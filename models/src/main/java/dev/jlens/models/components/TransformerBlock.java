package dev.jlens.models.components;

import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookPoint;
import dev.jlens.engine.hooks.HookPoints;

/**
 * One residual block. Sequential (GPT-2): resid_mid = resid_pre + attn(ln1(resid_pre)),
 * resid_post = resid_mid + mlp(ln2(resid_mid)). Parallel (GPT-NeoX): both read resid_pre,
 * resid_post = resid_pre + attn(ln1(resid_pre)) + mlp(ln2(resid_pre)), and there is no resid_mid.
 * Gemma 2 normalizes each output before it joins the residual: attn_out = ln1_post(attn(...)),
 * mlp_out = ln2_post(mlp(...)); elsewhere those norms are the identity.
 */
public final class TransformerBlock {
    public final Norm ln1, ln1Post, ln2, ln2Post;
    public final Attention attn;
    public final Mlp mlp;
    public final HookPoint hookResidPre, hookAttnOut, hookResidMid, hookMlpOut, hookResidPost;
    private final boolean parallel;
    private final int layer;

    /** Builds a block's parts, each registering its hook points when made, in the order the forward pass reaches them. */
    public interface Parts {
        Norm ln1(HookPoints hooks);
        Attention attn(HookPoints hooks);
        /** The norm of attention's output, or {@link Norm#NONE}. */
        Norm ln1Post(HookPoints hooks);
        Norm ln2(HookPoints hooks);
        Mlp mlp(HookPoints hooks);
        /** The norm of the MLP's output, or {@link Norm#NONE}. */
        Norm ln2Post(HookPoints hooks);
    }

    public TransformerBlock(HookPoints hooks, int layer, boolean parallel, Parts parts) {
        String prefix = "blocks." + layer;
        this.parallel = parallel;
        this.layer = layer;
        hookResidPre = hooks.register(prefix + ".hook_resid_pre");
        ln1 = parts.ln1(hooks);
        attn = parts.attn(hooks);
        ln1Post = parts.ln1Post(hooks);
        hookAttnOut = hooks.register(prefix + ".hook_attn_out");
        hookResidMid = parallel ? null : hooks.register(prefix + ".hook_resid_mid");
        ln2 = parts.ln2(hooks);
        mlp = parts.mlp(hooks);
        ln2Post = parts.ln2Post(hooks);
        hookMlpOut = hooks.register(prefix + ".hook_mlp_out");
        hookResidPost = hooks.register(prefix + ".hook_resid_post");
    }

    public Tensor forward(Tensor residIn, boolean keep) {
        return forward(residIn, keep, null, Span.of(residIn.dim(0), residIn.dim(1)));
    }

    /**
     * @param qkPositions null, or shortformer positions for the attention's queries and keys
     * @param span        where the positions sit in their sequences, and the KV cache, if any
     */
    public Tensor forward(Tensor residIn, boolean keep, Tensor qkPositions, Span span) {
        Tensor residPre = hookResidPre.forward(residIn);
        KeyValueCache.Entry cached = span.cache() == null ? null : span.cache().layer(layer);
        Tensor attnOut = hookAttnOut.forward(ln1Post.forward(attn.forward(ln1.forward(residPre, keep), keep, qkPositions, span, cached), keep));
        Tensor mlpIn = parallel ? residPre : hookResidMid.forward(residPre.plus(attnOut));
        Tensor mlpOut = hookMlpOut.forward(ln2Post.forward(mlp.forward(ln2.forward(mlpIn, keep), keep), keep));
        Tensor residPost = parallel ? residPre.plus(attnOut).plus(mlpOut) : mlpIn.plus(mlpOut);
        return hookResidPost.forward(residPost);
    }

    /** dL/dresid_post → dL/dresid_pre (before the resid_pre hook point, i.e. for the previous block). */
    public Tensor backward(Tensor dResidPostIn) {
        Tensor dResidPost = hookResidPost.backward(dResidPostIn);
        Tensor dMlpIn = ln2.backward(mlp.backward(ln2Post.backward(hookMlpOut.backward(dResidPost))));
        Tensor dResidPre;
        if (parallel) {
            Tensor dAttnIn = ln1.backward(attn.backward(ln1Post.backward(hookAttnOut.backward(dResidPost))));
            dResidPre = dResidPost.plus(dMlpIn).plus(dAttnIn);
        } else {
            Tensor dResidMid = hookResidMid.backward(dResidPost.plus(dMlpIn));
            Tensor dAttnIn = ln1.backward(attn.backward(ln1Post.backward(hookAttnOut.backward(dResidMid))));
            dResidPre = dResidMid.plus(dAttnIn);
        }
        return hookResidPre.backward(dResidPre);
    }

    public void release() {
        ln1.release();
        attn.release();
        ln1Post.release();
        ln2.release();
        mlp.release();
        ln2Post.release();
    }
}
