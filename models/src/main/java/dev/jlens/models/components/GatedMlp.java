package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookPoint;
import dev.jlens.engine.hooks.HookPoints;

/**
 * The gated MLP of the Llama family (Llama, Qwen, Mistral, Gemma) under TransformerLens's names:
 * {@code hook_pre} = x·W_gate, {@code hook_pre_linear} = x·W_in + b_in, {@code hook_post} =
 * act(pre) ⊙ pre_linear, and out = post·W_out + b_out.
 *
 * <p>b_in is the linear branch's bias, as Hugging Face's up_proj bias is and as the golden float64
 * reference has it; TransformerLens's GatedMLP adds it after the product instead. Every Llama-family
 * checkpoint has b_in = 0, where the two agree; a trained or edited b_in does not.
 *
 * <p>Shapes: x, out [B, T, D]; pre, pre_linear, post [B, T, M]. W_gate, W_in [D, M], b_in [M],
 * W_out [M, D], b_out [D].
 */
public final class GatedMlp implements Mlp {
    public final Parameter W_gate, W_in, b_in, W_out, b_out;
    public final HookPoint hookPre, hookPreLinear, hookPost;
    public final NeuronActivation activation;
    private final int dModel, dMlp;

    // saved for backward
    private Tensor x, pre, preLinear, activated, post;

    public GatedMlp(HookPoints hooks, String prefix, Parameter wGate, Parameter wIn, Parameter bIn, Parameter wOut, Parameter bOut,
                    NeuronActivation activation) {
        this.W_gate = wGate;
        this.W_in = wIn;
        this.b_in = bIn;
        this.W_out = wOut;
        this.b_out = bOut;
        this.activation = activation;
        this.dModel = wIn.value().dim(0);
        this.dMlp = wIn.value().dim(1);
        hookPre = hooks.register(prefix + ".hook_pre");
        hookPreLinear = hooks.register(prefix + ".hook_pre_linear");
        hookPost = hooks.register(prefix + ".hook_post");
    }

    @Override
    public Tensor forward(Tensor x, boolean keep) {
        Backend ops = Backend.of(W_in.value());
        int batch = x.dim(0), pos = x.dim(1), n = batch * pos;
        Tensor gate = ops.empty(batch, pos, dMlp), linear = ops.empty(batch, pos, dMlp);
        Linear.forward(ops, Matrix.of(x, n, dModel), Matrix.of(W_gate.value(), dModel, dMlp), null, Matrix.of(gate, n, dMlp));
        Linear.forward(ops, Matrix.of(x, n, dModel), Matrix.of(W_in.value(), dModel, dMlp), b_in.value(), Matrix.of(linear, n, dMlp));
        Tensor pre = hookPre.forward(gate), preLinear = hookPreLinear.forward(linear);
        Tensor activated = activation.forward(ops, pre, keep);
        Tensor gated = ops.empty(batch, pos, dMlp);
        ops.multiply(activated, preLinear, gated);
        Tensor post = hookPost.forward(gated);
        Tensor out = ops.empty(batch, pos, dModel);
        Linear.forward(ops, Matrix.of(post, n, dMlp), Matrix.of(W_out.value(), dMlp, dModel), b_out.value(), Matrix.of(out, n, dModel));
        if (keep) {
            // Only what backward will read: x feeds the two input weights' gradients, post W_out's.
            this.x = W_gate.requiresGrad() || W_in.requiresGrad() ? x : null;
            this.pre = pre;
            this.preLinear = preLinear;
            this.activated = activated;
            this.post = W_out.requiresGrad() ? post : null;
        }
        return out;
    }

    /** dpost = dout·W_outᵀ; dpre_linear = dpost ⊙ act(pre), and db_in += Σ dpre_linear; dpre = act'(pre)·(dpost ⊙ pre_linear). */
    @Override
    public Tensor backward(Tensor dOut) {
        Backend ops = Backend.of(W_in.value());
        int batch = dOut.dim(0), pos = dOut.dim(1), n = batch * pos;
        Tensor dPost = hookPost.backward(Linear.backward(ops, dOut, post, W_out, b_out));
        Tensor dActivated = ops.empty(batch, pos, dMlp), dLinear = ops.empty(batch, pos, dMlp);
        ops.multiply(dPost, preLinear, dActivated);
        ops.multiply(dPost, activated, dLinear);
        Tensor dPreLinear = hookPreLinear.backward(dLinear);
        if (b_in.requiresGrad()) Linear.biasGradient(ops, Matrix.of(dPreLinear, n, dMlp), b_in.grad());
        Tensor dPre = hookPre.backward(activation.backward(ops, pre, dActivated));
        if (W_gate.requiresGrad()) Linear.weightGradient(ops, Matrix.of(x, n, dModel), Matrix.of(dPre, n, dMlp), Matrix.of(W_gate.grad(), dModel, dMlp));
        if (W_in.requiresGrad()) Linear.weightGradient(ops, Matrix.of(x, n, dModel), Matrix.of(dPreLinear, n, dMlp), Matrix.of(W_in.grad(), dModel, dMlp));
        Tensor dx = ops.empty(batch, pos, dModel), dxLinear = ops.empty(batch, pos, dModel);
        Linear.inputGradient(ops, Matrix.of(dPre, n, dMlp), Matrix.of(W_gate.value(), dModel, dMlp), Matrix.of(dx, n, dModel));
        Linear.inputGradient(ops, Matrix.of(dPreLinear, n, dMlp), Matrix.of(W_in.value(), dModel, dMlp), Matrix.of(dxLinear, n, dModel));
        ops.add(dxLinear, 0, dx, 0, dx.size());
        return dx;
    }

    @Override
    public void release() {
        x = pre = preLinear = activated = post = null;
        activation.release();
    }
}
