package dev.jlens.models.components;

import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookPoint;
import dev.jlens.engine.hooks.HookPoints;
import dev.jlens.kernels.Gelu;
import dev.jlens.kernels.Solu;
import dev.jlens.models.Activation;

/**
 * The MLP: {@code hook_pre} = x·W_in + b_in, {@code hook_post} = act(pre), out = post·W_out + b_out.
 * For SoLU (TransformerLens's {@code solu_ln}) act is {@code hook_mid} = pre ⊙ softmax(pre)
 * followed by a layer norm {@code ln} over d_mlp, whose output is {@code hook_post}.
 *
 * <p>Shapes: x, out [B, T, D]; pre, mid, post [B, T, M]. W_in [D, M], b_in [M], W_out [M, D], b_out [D].
 */
public final class Mlp {
    public final Parameter W_in, b_in, W_out, b_out;
    public final HookPoint hookPre, hookMid, hookPost;
    /** SoLU's layer norm after the activation; null for GELU MLPs. */
    public final LayerNorm ln;
    private final Activation act;
    private final int dModel, dMlp;

    private Tensor x, pre, mid, post;

    public Mlp(HookPoints hooks, String prefix, Activation act, Parameter wIn, Parameter bIn, Parameter wOut, Parameter bOut,
               Parameter lnW, Parameter lnB, float eps) {
        this.W_in = wIn;
        this.b_in = bIn;
        this.W_out = wOut;
        this.b_out = bOut;
        this.act = act;
        this.dModel = wIn.value().dim(0);
        this.dMlp = wIn.value().dim(1);
        hookPre = hooks.register(prefix + ".hook_pre");
        if (act == Activation.SOLU_LN) {
            hookMid = hooks.register(prefix + ".hook_mid");
            ln = new LayerNorm(hooks, prefix + ".ln", lnW, lnB, dMlp, eps);
        } else {
            hookMid = null;
            ln = null;
        }
        hookPost = hooks.register(prefix + ".hook_post");
    }

    public Tensor forward(Tensor x, boolean keep) {
        int batch = x.dim(0), pos = x.dim(1), n = batch * pos;
        float[] preValues = new float[n * dMlp];
        Linear.forward(x.data(), 0, dModel, W_in.value().data(), 0, dMlp, b_in.value().data(), 0, preValues, 0, dMlp, n, dModel, dMlp);
        Tensor pre = hookPre.forward(Tensor.of(preValues, batch, pos, dMlp));
        float[] activated = new float[n * dMlp];
        Tensor mid = null, post;
        switch (act) {
            case GELU_NEW, GELU -> {
                Gelu.forward(geluKind(), pre.data(), activated, activated.length);
                post = hookPost.forward(Tensor.of(activated, batch, pos, dMlp));
            }
            case SOLU_LN -> {
                Solu.forward(pre.data(), activated, n, dMlp);
                mid = hookMid.forward(Tensor.of(activated, batch, pos, dMlp));
                post = hookPost.forward(ln.forward(mid, keep));
            }
            default -> throw new AssertionError(act);
        }
        float[] out = new float[n * dModel];
        Linear.forward(post.data(), 0, dMlp, W_out.value().data(), 0, dModel, b_out.value().data(), 0, out, 0, dModel, n, dMlp, dModel);
        if (keep) {
            this.x = x;
            this.pre = pre;
            this.mid = mid;
            this.post = post;
        }
        return Tensor.of(out, batch, pos, dModel);
    }

    public Tensor backward(Tensor dOut) {
        int batch = dOut.dim(0), pos = dOut.dim(1), n = batch * pos;
        float[] dout = dOut.data();
        Linear.biasGradient(dout, 0, dModel, b_out.grad().data(), 0, n, dModel);
        Linear.weightGradient(post.data(), 0, dMlp, dout, 0, dModel, W_out.grad().data(), 0, dModel, n, dMlp, dModel);
        float[] dPost = new float[n * dMlp];
        Linear.inputGradient(dout, 0, dModel, W_out.value().data(), 0, dModel, dPost, 0, dMlp, n, dMlp, dModel, false);
        Tensor dPostHooked = hookPost.backward(Tensor.of(dPost, batch, pos, dMlp));
        float[] dPre = new float[n * dMlp];
        switch (act) {
            case GELU_NEW, GELU -> Gelu.backward(geluKind(), pre.data(), dPostHooked.data(), dPre, dPre.length);
            case SOLU_LN -> {
                Tensor dMid = hookMid.backward(ln.backward(dPostHooked));
                Solu.backward(pre.data(), dMid.data(), dPre, n, dMlp);
            }
            default -> throw new AssertionError(act);
        }
        float[] dPreHooked = hookPre.backward(Tensor.of(dPre, batch, pos, dMlp)).data();
        Linear.biasGradient(dPreHooked, 0, dMlp, b_in.grad().data(), 0, n, dMlp);
        Linear.weightGradient(x.data(), 0, dModel, dPreHooked, 0, dMlp, W_in.grad().data(), 0, dMlp, n, dModel, dMlp);
        float[] dx = new float[n * dModel];
        Linear.inputGradient(dPreHooked, 0, dMlp, W_in.value().data(), 0, dMlp, dx, 0, dModel, n, dModel, dMlp, false);
        return Tensor.of(dx, batch, pos, dModel);
    }

    private Gelu.Kind geluKind() {
        return act == Activation.GELU_NEW ? Gelu.Kind.TANH : Gelu.Kind.ERF;
    }

    public void release() {
        x = pre = mid = post = null;
        if (ln != null) ln.release();
    }
}
