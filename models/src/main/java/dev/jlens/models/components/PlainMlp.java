package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookPoint;
import dev.jlens.engine.hooks.HookPoints;
import java.util.function.Supplier;

/**
 * TransformerLens's MLP: {@code hook_pre} = x·W_in + b_in, {@code hook_post} = act(pre),
 * out = post·W_out + b_out, where act is the {@link NeuronActivation} the config picks (GELU, or
 * SoLU with its hook_mid and layer norm).
 *
 * <p>Shapes: x, out [B, T, D]; pre, post [B, T, M]. W_in [D, M], b_in [M], W_out [M, D], b_out [D].
 */
public final class PlainMlp implements Mlp {
    public final Parameter W_in, b_in, W_out, b_out;
    public final HookPoint hookPre, hookPost;
    public final NeuronActivation activation;
    private final int dModel, dMlp;

    // saved for backward
    private Tensor x, pre, post;

    /** @param activation makes the activation part, whose hook points come between hook_pre and hook_post */
    public PlainMlp(HookPoints hooks, String prefix, Parameter wIn, Parameter bIn, Parameter wOut, Parameter bOut,
                    Supplier<NeuronActivation> activation) {
        this.W_in = wIn;
        this.b_in = bIn;
        this.W_out = wOut;
        this.b_out = bOut;
        this.dModel = wIn.value().dim(0);
        this.dMlp = wIn.value().dim(1);
        hookPre = hooks.register(prefix + ".hook_pre");
        this.activation = activation.get();
        hookPost = hooks.register(prefix + ".hook_post");
    }

    @Override
    public Tensor forward(Tensor x, boolean keep) {
        Backend ops = Backend.of(W_in.value());
        int batch = x.dim(0), pos = x.dim(1), n = batch * pos;
        Tensor preValues = ops.empty(batch, pos, dMlp);
        Linear.forward(ops, Matrix.of(x, n, dModel), Matrix.of(W_in.value(), dModel, dMlp), b_in.value(), Matrix.of(preValues, n, dMlp));
        Tensor pre = hookPre.forward(preValues);
        Tensor post = hookPost.forward(activation.forward(ops, pre, keep));
        Tensor out = ops.empty(batch, pos, dModel);
        Linear.forward(ops, Matrix.of(post, n, dMlp), Matrix.of(W_out.value(), dMlp, dModel), b_out.value(), Matrix.of(out, n, dModel));
        if (keep) {
            // Only what backward will read: the inputs of weight gradients nobody asked for are dropped.
            this.x = W_in.requiresGrad() ? x : null;
            this.pre = pre;
            this.post = W_out.requiresGrad() ? post : null;
        }
        return out;
    }

    @Override
    public Tensor backward(Tensor dOut) {
        Backend ops = Backend.of(W_in.value());
        Tensor dPost = Linear.backward(ops, dOut, post, W_out, b_out);
        Tensor dPre = hookPre.backward(activation.backward(ops, pre, hookPost.backward(dPost)));
        return Linear.backward(ops, dPre, x, W_in, b_in);
    }

    @Override
    public void release() {
        x = pre = post = null;
        activation.release();
    }
}
