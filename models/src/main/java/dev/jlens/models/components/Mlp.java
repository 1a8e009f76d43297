package dev.jlens.models.components;

import dev.jlens.engine.Matrix;
import dev.jlens.engine.Backend;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookPoint;
import dev.jlens.engine.hooks.HookPoints;
import dev.jlens.kernels.Gelu;

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
        Backend ops = Backend.of(W_in.value());
        int batch = x.dim(0), pos = x.dim(1), n = batch * pos;
        Tensor preValues = ops.empty(batch, pos, dMlp);
        Linear.forward(ops, Matrix.of(x, n, dModel), Matrix.of(W_in.value(), dModel, dMlp), b_in.value(), Matrix.of(preValues, n, dMlp));
        Tensor pre = hookPre.forward(preValues);
        Tensor activated = ops.empty(batch, pos, dMlp);
        Tensor mid = null, post;
        switch (act) {
            case GELU_NEW, GELU -> {
                ops.gelu(geluKind(), pre, activated);
                post = hookPost.forward(activated);
            }
            case SOLU_LN -> {
                ops.solu(pre, activated, n, dMlp);
                mid = hookMid.forward(activated);
                post = hookPost.forward(ln.forward(mid, keep));
            }
            default -> throw new AssertionError(act);
        }
        Tensor out = ops.empty(batch, pos, dModel);
        Linear.forward(ops, Matrix.of(post, n, dMlp), Matrix.of(W_out.value(), dMlp, dModel), b_out.value(), Matrix.of(out, n, dModel));
        if (keep) {
            this.x = x;
            this.pre = pre;
            this.mid = mid;
            this.post = post;
        }
        return out;
    }

    public Tensor backward(Tensor dOut) {
        Backend ops = Backend.of(W_in.value());
        int batch = dOut.dim(0), pos = dOut.dim(1), n = batch * pos;
        Linear.biasGradient(ops, Matrix.of(dOut, n, dModel), b_out.grad());
        Linear.weightGradient(ops, Matrix.of(post, n, dMlp), Matrix.of(dOut, n, dModel), Matrix.of(W_out.grad(), dMlp, dModel));
        Tensor dPost = ops.empty(batch, pos, dMlp);
        Linear.inputGradient(ops, Matrix.of(dOut, n, dModel), Matrix.of(W_out.value(), dMlp, dModel), Matrix.of(dPost, n, dMlp));
        Tensor dPostHooked = hookPost.backward(dPost);
        Tensor dPre = ops.zeros(batch, pos, dMlp);
        switch (act) {
            case GELU_NEW, GELU -> ops.geluBackward(geluKind(), pre, dPostHooked, dPre);
            case SOLU_LN -> ops.soluBackward(pre, hookMid.backward(ln.backward(dPostHooked)), dPre, n, dMlp);
            default -> throw new AssertionError(act);
        }
        Tensor dPreHooked = hookPre.backward(dPre);
        Linear.biasGradient(ops, Matrix.of(dPreHooked, n, dMlp), b_in.grad());
        Linear.weightGradient(ops, Matrix.of(x, n, dModel), Matrix.of(dPreHooked, n, dMlp), Matrix.of(W_in.grad(), dModel, dMlp));
        Tensor dx = ops.empty(batch, pos, dModel);
        Linear.inputGradient(ops, Matrix.of(dPreHooked, n, dMlp), Matrix.of(W_in.value(), dModel, dMlp), Matrix.of(dx, n, dModel));
        return dx;
    }

    private Gelu.Kind geluKind() {
        return act == Activation.GELU_NEW ? Gelu.Kind.TANH : Gelu.Kind.ERF;
    }

    public void release() {
        x = pre = mid = post = null;
        if (ln != null) ln.release();
    }
}
